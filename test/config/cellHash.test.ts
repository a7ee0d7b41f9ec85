// Stored studies resume by their cells' hashes: the hashes below were computed by the code before the typed
// configuration (commit bb741bc) and must never change. The examples/study.yaml cells are checked against the
// hashes recorded in the committed results directory (test/fixtures/results-v1).
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cellsOf } from "../../src/study/matrix.ts";
import { parseStudy, type StudyOptions } from "../../src/study/spec.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const NO_ENV: NodeJS.ProcessEnv = {};
const hashes = (text: string, opts: StudyOptions = { env: NO_ENV }) => cellsOf(parseStudy(text, "/studies/pins.yaml", opts)).map((c) => c.hash);
/** What the CLI's remote flags give when none is set (commander's defaults). */
const cliRemote = { scoring: "auto", concurrency: 8, timeout: 120, retries: 6, cache: true } as const;

describe("cell hashes are those of earlier versions", () => {
  it("sim", () => assert.deepEqual(hashes("models: [sim:d]\ntargets: [extreme]\n"), ["0acdd7759a2c8779"]));

  it("axes, a map target, prune", () => {
    const text = 'models: ["sim:e?noise=0.2"]\ntargets: ["uniform(1,6)", {b: 0.5, a: 0.5}]\nprotocols: [independent, batch]\ntemperatures: [0.5]\nseeds: [7]\nsteps: 12\nruns: 3\nprune: 0.001\n';
    assert.deepEqual(hashes(text), ["ac72a84ce65ec9eb", "87b977d80bae0dcd", "59c33dc3d34fc8cd", "d6a84d36ff214aeb"]);
  });

  it("gguf paths and hf: with engine settings (threads left out)", () => {
    const text = "models: [/models/tiny.gguf, gguf:rel/tiny.gguf, hf:user/repo:Q4_K_M]\ntargets: [extreme]\nengine: {kv: f16, raw: true, context_size: 512, threads: 2}\n";
    assert.deepEqual(hashes(text), ["ab657bb79261ba9b", "599ba743649d132c", "2139d991b7a64ce1"]);
  });

  it("samplers and a prompt", () => {
    const text = "models: [sim:e]\ntargets: [extreme]\nsamplers: [{}, {top_k: 5, top_p: 0.9, order: vllm}, {min_p: 0.05}]\nprompt: 'Draw from {{distribution}}.\\n---prefill---\\nSamples:'\n";
    assert.deepEqual(hashes(text), ["6198f17a7cdcb070", "856918f35f68739b", "ed509dd6e92afe03"]);
  });

  it("openai: without a URL, with --base-url and server flags, with OPENAI_BASE_URL", () => {
    const text = "models: [openai:m]\ntargets: [extreme]\n";
    assert.deepEqual(hashes(text), ["11a14689d7d49bf6"]);
    assert.deepEqual(hashes(text, { env: NO_ENV, remote: cliRemote }), ["11a14689d7d49bf6"]);
    assert.deepEqual(hashes(text, { env: NO_ENV, remote: { ...cliRemote, baseUrl: "http://127.0.0.1:8000/v1", chat: true, scoring: "tokens", nProbs: 16, topLogprobs: 7 } }), ["4c821492bd5a2d57"]);
    const env = { OPENAI_BASE_URL: "http://env.example:9000/v1" };
    assert.deepEqual(hashes(text, { env, remote: cliRemote }), ["fc4a5d5bf7a835b8"]);
    assert.deepEqual(hashes(text, { env, remote: { baseUrl: "http://127.0.0.1:8000/v1", scoring: "top-k", topLogprobs: 3 } }), ["6686ea2f373a17fb"]);
  });

  it("the environment is read when the study is parsed, not when a cell is hashed", () => {
    const study = parseStudy("models: [openai:m]\ntargets: [extreme]\n", "s.yaml", { env: { OPENAI_BASE_URL: "http://env.example:9000/v1" } });
    const saved = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = "http://elsewhere:1/v1";
    try {
      assert.deepEqual(cellsOf(study).map((c) => c.hash), ["fc4a5d5bf7a835b8"]);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
  });

  it("examples/study.yaml: the cells stored in the committed results directory", async () => {
    const text = "name: d-vs-e\nmodels: [sim:d, sim:e, sim:collapsed]\ntargets:\n  - extreme\n  - uniform(1,6)\n  - {red: 0.5, green: 0.3, blue: 0.2}\nprotocols: [sequential]\ntemperatures: [1]\nseeds: [1]\nsteps: 30\nruns: 5\n";
    const dir = new URL("../fixtures/results-v1/dir/runs/", import.meta.url).pathname;
    const stored = new Map<string, string>();
    for (const f of await readdir(dir)) {
      const r = JSON.parse(await readFile(join(dir, f), "utf8")) as { settings?: { cell?: string; target_label?: string; model_spec?: string } };
      if (r.settings?.cell) stored.set(`${r.settings.model_spec!.replace(/\?.*$/, "")} ${r.settings.target_label}`, r.settings.cell);
    }
    const cells = cellsOf(parseStudy(text, "examples/study.yaml", { env: NO_ENV }));
    assert.equal(stored.size, 9);
    for (const c of cells) assert.equal(c.hash, stored.get(`${c.model.spec} ${c.target.label}`), `${c.model.spec} × ${c.target.label}`);
  });

  it("the CLI: --dry-run --json with server flags and with OPENAI_BASE_URL", async () => {
    const dir = await tempDir();
    const file = join(dir, "cli.yaml");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(file, "models: [openai:m, sim:d]\ntargets: [extreme]\n");
    const dry = async (args: string[], env: NodeJS.ProcessEnv) => {
      const res = await ptalign(["run", file, "--dry-run", "--json", "--out", join(dir, "out"), ...args], { env });
      assert.equal(res.code, 0, res.stderr);
      return (JSON.parse(res.stdout) as { cells: { hash: string }[] }).cells.map((c) => c.hash);
    };
    assert.deepEqual(await dry(["--base-url", "http://127.0.0.1:8000/v1", "--chat", "--scoring", "tokens", "--n-probs", "16", "--top-logprobs", "7"], { OPENAI_BASE_URL: "" }), ["4c821492bd5a2d57", "0acdd7759a2c8779"]);
    assert.deepEqual(await dry([], { OPENAI_BASE_URL: "http://env.example:9000/v1" }), ["fc4a5d5bf7a835b8", "0acdd7759a2c8779"]);
  });
});
