// The fast path (float32 logits read through libllama's C API) against the oracle (node-llama-cpp's probability Map):
// the same distributions within 1e-6 on the generated models the tests use, the same scoring and runs; and runs in
// parallel on sequences of one context give bit-identical steps to the same runs one after another.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../../src/protocols/index.ts";
import { optionTexts, scoreOptions } from "../../src/scoring/index.ts";
import { bpeELikeSpec, completePieces, dLikeSpec, eLikeSpec, writeBigramModel, writeBpeBigramModel, type BigramSpec } from "../../src/synth/index.ts";
import type { ProtocolName, Target } from "../../src/types.ts";
import { multiTokenSpec } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const CHATML = `{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}`;

/** "é" exists only as the byte tokens <0xC3> <0xA9> (byte fallback); " a," has two tokenisations. */
function byteFallbackSpec(): BigramSpec {
  const start = { "▁a": 0.4, "▁": 0.6 };
  return {
    name: "byte-fallback",
    pieces: completePieces(["▁", ",", "a", "▁a"]),
    defaultRow: start,
    rows: { ",": start, "▁": { "<0xC3>": 0.7, a: 0.3 }, "<0xC3>": { "<0xA9>": 1 }, "<0xA9>": { ",": 1 }, "▁a": { ",": 1 }, a: { ",": 1 } },
  };
}

interface Case {
  name: string;
  write: (path: string) => Promise<unknown>;
  target: Target;
}

const spm = (spec: BigramSpec) => (path: string) => writeBigramModel(path, spec);
const TWELVE: Target = { support: Array.from({ length: 12 }, (_, i) => String(i + 1)), probs: Array.from({ length: 12 }, (_, i) => (i === 0 ? 0.25 : i === 1 ? 0.15 : 0.06)) }; // no ties at the top: greedy batch runs pick the same token on both paths

const CASES: Case[] = [
  { name: "multi-token answers (1..12, two tokenisations, leak)", write: spm(multiTokenSpec()), target: { support: ["1", "2", "5", "10", "11", "12"], probs: [0.2, 0.2, 0.15, 0.15, 0.15, 0.15] } },
  { name: "byte fallback", write: spm(byteFallbackSpec()), target: { support: ["a", "é"], probs: [0.5, 0.5] } },
  { name: "SentencePiece with a space prefix and a chat template", write: spm({ ...dLikeSpec(["1", "2", "3", "4"]), addSpacePrefix: true, chatTemplate: CHATML }), target: { support: ["1", "2", "3", "4"], probs: [0.25, 0.25, 0.25, 0.25] } },
  { name: "E-like", write: spm(eLikeSpec()), target: { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] } },
  { name: "byte-level BPE (qwen2.5 tokenizer and ChatML), answers 1..12", write: (path) => writeBpeBigramModel(path, bpeELikeSpec("qwen2.5", TWELVE)), target: TWELVE },
  { name: "byte-level BPE (llama3: 1-3 digits a token)", write: (path) => writeBpeBigramModel(path, bpeELikeSpec("llama3", TWELVE)), target: TWELVE },
];

const prompt = (target: Target) => renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support: target.support, steps: 6 });
const settings = (extra: object = {}) => ({ steps: 6, runs: 3, temperature: 0.8, seed: 7, prune: 1e-9, ...extra });

function maxDiff(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(0, ...a.map((x, i) => Math.abs(x - b[i]!)));
}

describe("exact P_token from raw logits equals node-llama-cpp's probability map", () => {
  for (const c of CASES) {
    describe(c.name, () => {
      let fast: TokenBackend;
      let oracle: TokenBackend;
      before(async () => {
        const path = join(await tempDir(), "m.gguf");
        await c.write(path);
        fast = await loadLlamaBackend(path, { gpu: "off", parallel: 1 });
        oracle = await loadLlamaBackend(path, { gpu: "off", probabilities: "map" });
      });
      after(async () => {
        await fast.close();
        await oracle.close();
      });

      it("reads logits (not the map) and gives the same full distribution within 1e-6", async () => {
        assert.equal(fast.engine?.probabilities, "logits");
        assert.equal(oracle.engine?.probabilities, "map");
        const tokens = fast.encodePrompt(prompt(c.target));
        for (const context of [tokens, [...tokens, 4], [...tokens, fast.vocab.size - 1, 5]]) {
          const a = await fast.next(context);
          const b = await oracle.next(context);
          assert.equal(a.probs.size, fast.vocab.size);
          let worst = 0;
          let sum = 0;
          for (let v = 0; v < fast.vocab.size; v++) {
            worst = Math.max(worst, Math.abs(a.probs.get(v)! - (b.probs.get(v) ?? 0)));
            sum += a.probs.get(v)!;
          }
          assert.ok(worst <= 1e-6, `max |Δp| ${worst}`);
          assert.ok(Math.abs(sum - 1) < 1e-9);
        }
      });

      it("scores the options the same (raw, leak, paths, entropy_full) at T = 1 and T = 0.6, with a logit bias too", async () => {
        const texts = optionTexts(c.target.support, " ", ",");
        const context = fast.encodePrompt(prompt(c.target));
        const bias = new Map([[fast.encodePrompt(prompt(c.target)).at(-1)!, 0.5], [5, -1]]);
        for (const opts of [{ temperature: 1, prune: 1e-9 }, { temperature: 0.6, prune: 1e-9 }, { temperature: 0.6, prune: 1e-9, bias }]) {
          const a = await scoreOptions(fast, context, texts, opts);
          const b = await scoreOptions(oracle, context, texts, opts);
          assert.ok(maxDiff(a.raw, b.raw) <= 1e-6, `raw ${a.raw} vs ${b.raw}`);
          assert.ok(Math.abs(a.leak - b.leak) <= 1e-6);
          assert.deepEqual(a.paths, b.paths);
          assert.ok(a.entropyFull !== null && b.entropyFull !== null && Math.abs(a.entropyFull - b.entropyFull) <= 1e-6, `entropy ${a.entropyFull} vs ${b.entropyFull}`);
        }
      });

      for (const protocol of ["sequential", "independent", "batch"] as ProtocolName[]) {
        it(`${protocol} runs give the same steps within 1e-6 and the same samples`, async () => {
          // batch samples its free generation token by token: greedy there, since the two paths walk the vocabulary in different orders.
          const s = settings(protocol === "batch" ? { temperature: 0 } : {});
          const a = await runTokenProtocol(fast, protocol, c.target, prompt(c.target), s);
          const b = await runTokenProtocol(oracle, protocol, c.target, prompt(c.target), s);
          assert.equal(a.length, b.length);
          a.forEach((run, r) => {
            assert.deepEqual(run.steps.map((x) => x.sample), b[r]!.steps.map((x) => x.sample));
            run.steps.forEach((step, t) => {
              assert.ok(maxDiff(step.ptoken, b[r]!.steps[t]!.ptoken) <= 1e-6);
              assert.ok(Math.abs((step.entropy_full ?? NaN) - (b[r]!.steps[t]!.entropy_full ?? NaN)) <= 1e-6);
            });
          });
        });
      }
    });
  }
});

describe("parallel runs on sequences of one context", () => {
  for (const c of [CASES[0]!, CASES[2]!, CASES[4]!]) {
    it(`${c.name}: 5 runs on 4 sequences give bit-identical steps to the same runs on one (sequential, independent, batch)`, async () => {
      const path = join(await tempDir(), "m.gguf");
      await c.write(path);
      const serial = await loadLlamaBackend(path, { gpu: "off", parallel: 1 });
      const parallel = await loadLlamaBackend(path, { gpu: "off", parallel: 4 });
      try {
        assert.equal(serial.parallel, false);
        assert.equal(parallel.parallel, true);
        assert.equal(parallel.engine?.parallel, 4);
        for (const protocol of ["sequential", "independent", "batch"] as ProtocolName[]) {
          const s = settings({ runs: 5 });
          const a = await runTokenProtocol(serial, protocol, c.target, prompt(c.target), s);
          const b = await runTokenProtocol(parallel, protocol, c.target, prompt(c.target), s);
          assert.equal(JSON.stringify(b), JSON.stringify(a), protocol);
          assert.equal(a.length, 5);
        }
      } finally {
        await serial.close();
        await parallel.close();
      }
    });
  }
});
