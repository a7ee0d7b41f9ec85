// Codegen draws its tokens with the protocols' generation (scoring/generate.ts), so it honours the deployed sampler's
// truncations: on a model that writes program A (0.7) or B (0.3), top-k 1, top-p 0.5 and min-p 0.5 keep only A at
// temperature 1, while the untruncated sampler writes both.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { makeRng } from "../../src/rng.ts";
import type { SamplerSettings } from "../../src/scoring/index.ts";
import { writeBigramModel } from "../../src/synth/index.ts";
import { codeWriterSpec } from "../../src/tasks/index.ts";
import { generateTokens } from "../../src/tasks/codegen/generate.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const A = "  return 1;\n}\n";
const B = "  return 2;\n}\n";

describe("codegen honours the sampler settings", () => {
  let backend: TokenBackend;
  before(async () => {
    const path = join(await tempDir(), "two-programs.gguf");
    await writeBigramModel(path, codeWriterSpec([{ text: A, prob: 0.7 }, { text: B, prob: 0.3 }]));
    backend = await loadLlamaBackend(path, { threads: 1, raw: true });
  });
  after(async () => backend?.close());

  const written = async (sampler?: SamplerSettings) => {
    const prompt = backend.encodePrompt({ user: "Complete the function.", prefill: "function f() {\n" });
    const out = new Set<string>();
    for (let seed = 1; seed <= 24; seed++) {
      const c = await generateTokens(backend, prompt, { temperature: 1, maxTokens: 8, stops: [], rng: makeRng(seed), ...(sampler ? { sampler } : {}) });
      out.add(c.completion);
    }
    return [...out].sort();
  };

  it("without truncation both programs are written", async () => {
    assert.deepEqual(await written(), [A, B].sort());
  });
  for (const [name, s] of [
    ["top-k 1", { topK: 1 }],
    ["top-p 0.5", { topP: 0.5 }],
    ["min-p 0.5", { minP: 0.5 }],
  ] as const) {
    for (const order of ["llama.cpp", "vllm"] as const) {
      it(`${name} (${order} order) keeps only the most probable program`, async () => {
        assert.deepEqual(await written({ order, ...s }), [A]);
      });
    }
  }
});

describe("task codegen's sampler flags", () => {
  let dir: string;
  let model: string;
  let problems: string;
  before(async () => {
    dir = await tempDir();
    model = join(dir, "two-programs.gguf");
    await writeBigramModel(model, codeWriterSpec([{ text: A, prob: 0.7 }, { text: B, prob: 0.3 }]));
    problems = join(dir, "problems.jsonl");
    await writeFile(problems, JSON.stringify({ task_id: "t/0", prompt: "function f() {\n", entry_point: "f", canonical_solution: A, test: "function check(c) { assert.strictEqual(c(), 1); }" }) + "\n");
  });
  const run = (...extra: string[]) => ptalign(["task", "codegen", "--model", model, "--problems", problems, "-n", "12", "--temperature", "1", "--runs", "1", "--k", "1", "--threads", "1", "--json", "--no-save", ...extra]);

  it("--top-k 1 keeps only the most probable program (pass@1 = 1) and is recorded in settings.sampler; without it both are written", async () => {
    const kept = await run("--top-k", "1");
    assert.equal(kept.code, 0, kept.stderr);
    const [r] = JSON.parse(kept.stdout) as { settings: { sampler?: SamplerSettings }; cells: { samples: { completion: string }[] }[] }[];
    assert.deepEqual(r!.settings.sampler, { order: "llama.cpp", topK: 1 });
    assert.deepEqual([...new Set(r!.cells.flatMap((c) => c.samples.map((s) => s.completion)))], [A]);
    const free = await run();
    assert.equal(free.code, 0, free.stderr);
    const [f] = JSON.parse(free.stdout) as { settings: { sampler?: SamplerSettings }; cells: { samples: { completion: string }[] }[] }[];
    assert.equal(f!.settings.sampler, undefined);
    assert.deepEqual([...new Set(f!.cells.flatMap((c) => c.samples.map((s) => s.completion)))].sort(), [A, B].sort());
  });

  it("refusals: --top-p 0, --min-p above 1, a sampler on a sim: model (it draws whole programs)", async () => {
    const p0 = await run("--top-p", "0");
    assert.equal(p0.code, 2);
    assert.match(p0.stderr, /--top-p 0 keeps no token/);
    const m = await run("--min-p", "1.5");
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--min-p/);
    const sim = await ptalign(["task", "codegen", "--model", "sim:e", "--limit", "1", "--top-k", "2", "--no-save"]);
    assert.equal(sim.code, 2);
    assert.match(sim.stderr, /sim:e draws whole programs/);
    assert.equal(sim.stderr.trim().split("\n").length, 1, sim.stderr);
  });
});
