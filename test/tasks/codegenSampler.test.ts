// Codegen draws its tokens with the protocols' generation (scoring/generate.ts), so it honours the deployed sampler's
// truncations: on a model that writes program A (0.7) or B (0.3), top-k 1, top-p 0.5 and min-p 0.5 keep only A at
// temperature 1, while the untruncated sampler writes both.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { makeRng } from "../../src/rng.ts";
import type { SamplerSettings } from "../../src/scoring/index.ts";
import { writeBigramModel } from "../../src/synth/index.ts";
import { codeWriterSpec } from "../../src/tasks/index.ts";
import { generateTokens } from "../../src/tasks/codegen/generate.ts";
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
