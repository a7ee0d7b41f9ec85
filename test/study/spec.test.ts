import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { cellsOf } from "../../src/study/matrix.ts";
import { parseStudy } from "../../src/study/spec.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const rejects = (text: string, message: string | RegExp) =>
  assert.throws(() => parseStudy(text, "study.yaml"), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });

describe("study files: errors name the line and the field", () => {
  it("a wrong type in a list", () => rejects("models:\n  - sim:d\n  - 42\ntargets: [extreme]\n", "study.yaml:3: models[1]: expected a string, got number 42"));
  it("an unknown key", () => rejects("models: [sim:d]\ntargets: [extreme]\nstepz: 10\n", /^study\.yaml:3: unknown key "stepz" \(known keys: name, models, targets/));
  it("an unknown nested key", () => rejects("models: [sim:d]\ntargets: [extreme]\nengine:\n  threads: 1\n  device: cuda\n", /^study\.yaml:5: engine: unknown key "device"/));
  it("YAML that does not parse", () => rejects("models: [sim:d\ntargets: [extreme]\n", /^study\.yaml:\d: invalid YAML: /));
  it("a duplicated key", () => rejects("models: [sim:d]\ntargets: [extreme]\nmodels: [sim:e]\n", /^study\.yaml:3: invalid YAML: Map keys must be unique/));
  it("a missing key", () => rejects("targets: [extreme]\nsteps: 10\n", "study.yaml:1: models: required (a list)"));
  it("a number out of range", () => rejects("models: [sim:d]\ntargets: [extreme]\nsteps: 0\n", "study.yaml:3: steps: must be ≥ 1, got number 0"));
  it("a fraction where a whole number is needed", () => rejects("models: [sim:d]\ntargets: [extreme]\nruns: 2.5\n", "study.yaml:3: runs: expected a whole number, got number 2.5"));
  it("an unknown protocol", () => rejects("models: [sim:d]\ntargets: [extreme]\nprotocols: [sequential, parallel]\n", 'study.yaml:3: protocols[1]: expected one of sequential, independent, batch, got the string "parallel"'));
  it("a scalar where a list is needed", () => rejects("models: [sim:d]\ntargets: [extreme]\ntemperatures: 1\n", "study.yaml:3: temperatures: expected a list, got number 1"));
  it("an invalid target, on its own line", () => rejects("models: [sim:d]\ntargets:\n  - extreme\n  - {1: 0.5, 2: 0.6}\n", "study.yaml:4: targets[1]: probabilities sum to 1.1, expected 1"));
  it("a bad sim parameter", () => rejects("models:\n  - sim:e\n  - sim:d?peak=2\ntargets: [extreme]\n", /^study\.yaml:3: models\[1\]: bad value "2" for peak/));
  it("an unknown model spec", () => rejects("models: [llama3]\ntargets: [extreme]\n", /^study\.yaml:1: models\[0\]: unknown model spec "llama3"/));
  it("an unknown prompt placeholder", () => rejects("models: [sim:d]\ntargets: [extreme]\nprompt: 'hello {{nope}}'\n", /^study\.yaml:3: prompt: prompt template uses unknown placeholder \{\{nope\}\}/));
  it("not a map", () => rejects("- a\n- b\n", /^study\.yaml:1: a study is a map/));

  it("the CLI: one line, exit 2, nothing run", async () => {
    const dir = await tempDir();
    const file = join(dir, "study.yaml");
    await writeFile(file, "models:\n  - sim:d\n  - 42\ntargets: [extreme]\n");
    const res = await ptalign(["run", file, "--out", join(dir, "out")]);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stderr, `ptalign: ${file}:3: models[1]: expected a string, got number 42\n`);
    assert.equal(res.stdout, "");
  });
});

describe("study matrix", () => {
  const text = "models: [sim:d, sim:e]\ntargets:\n  - extreme\n  - {b: 0.5, a: 0.5}\nprotocols: [sequential, independent]\ntemperatures: [1, 0.5]\nseeds: [1, 7]\nsteps: 4\nruns: 2\n";

  it("is models × targets × protocols × temperatures × seeds, in file order, maps keeping their order", () => {
    const study = parseStudy(text, "s.yaml");
    const cells = cellsOf(study);
    assert.equal(cells.length, 2 * 2 * 2 * 2 * 2);
    assert.deepEqual(study.targets[1]!.dist.support, ["b", "a"]);
    assert.deepEqual([cells[0]!.model.spec, cells[0]!.target.label, cells[0]!.protocol, cells[0]!.temperature, cells[0]!.seed], ["sim:d", "extreme", "sequential", 1, 1]);
    assert.equal(new Set(cells.map((c) => c.hash)).size, cells.length, "every cell has its own identity");
  });

  it("a cell's identity depends on its settings, not on the rest of the matrix or the threads", () => {
    const a = cellsOf(parseStudy(text, "s.yaml"));
    const b = cellsOf(parseStudy("models: [sim:e]\ntargets: [extreme]\nprotocols: [independent]\ntemperatures: [0.5]\nseeds: [7]\nsteps: 4\nruns: 2\nengine: {threads: 2}\n", "t.yaml"));
    assert.ok(a.some((c) => c.hash === b[0]!.hash));
    const c = cellsOf(parseStudy("models: [sim:e]\ntargets: [extreme]\nprotocols: [independent]\ntemperatures: [0.5]\nseeds: [7]\nsteps: 5\nruns: 2\n", "t.yaml"));
    assert.ok(!a.some((x) => x.hash === c[0]!.hash));
  });

  it("--dry-run prints the matrix and the number of model calls", async () => {
    const dir = await tempDir();
    const file = join(dir, "study.yaml");
    await writeFile(file, "models: [sim:d, sim:e]\ntargets: [extreme, \"uniform(1,6)\"]\nsteps: 10\nruns: 3\n");
    const res = await ptalign(["run", file, "--dry-run", "--out", join(dir, "out")]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^study study: 4 cells/);
    assert.match(res.stdout, /\n1\s+sim:d\s+extreme\s+sequential\s+1\s+1\s+3×10\s+30\s+todo\n/);
    assert.match(res.stdout, /120 model calls in all .*; 120 still to make/);
  });
});

describe("examples/study.yaml", () => {
  it("is a valid study (the README shows it)", async () => {
    const { loadStudy } = await import("../../src/study/spec.ts");
    const study = await loadStudy(new URL("../../examples/study.yaml", import.meta.url).pathname);
    assert.equal(cellsOf(study).length, 9);
  });
});

describe("examples/paper.yaml", () => {
  it("--dry-run shows the paper's matrix offline: no download, nothing stored", async () => {
    const dir = await tempDir();
    const file = new URL("../../examples/paper.yaml", import.meta.url).pathname;
    // Any attempt to reach the network goes to a closed loopback port (and node-llama-cpp's model cache to an empty dir).
    const offline = { HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NODE_LLAMA_CPP_MODELS_DIR: join(dir, "models"), HOME: dir };
    const res = await ptalign(["run", file, "--dry-run", "--out", join(dir, "out")], { env: offline });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^study paper: 6 cells/);
    for (const m of ["Qwen2.5-7B-Instruct", "Mistral-Small-24B-Instruct", "Qwen2.5-0.5B-Instruct"]) {
      for (const t of ["extreme", "flat"]) assert.match(res.stdout, new RegExp(`hf:bartowski/${m}-[^ ]*GGUF:Q4_K_M\\s+${t}\\s+sequential\\s+1\\s`));
    }
    assert.match(res.stdout, /1500 model calls in all/);
    const { existsSync } = await import("node:fs");
    assert.ok(!existsSync(join(dir, "models")) && !existsSync(join(dir, "out", "ptalign.db")));
  });
});
