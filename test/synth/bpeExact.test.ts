// P_token is exact on byte-level BPE models for multi-digit answers, through the real engine, the model's real chat
// template and ptalign's scorer; `ptalign run --show-prompt` shows the template with the model's turn left open.
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../../src/protocols/index.ts";
import { bpeELikeSpec, writeBpeBigramModel, type BpeBigramSpec, type BpeFamilyName } from "../../src/synth/index.ts";
import type { Result, Target } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const SUPPORT = Array.from({ length: 12 }, (_, i) => String(i + 1)); // "1" is a prefix of "10", "11", "12"
const uniform = (support: string[]): Target => ({ support, probs: support.map(() => 1 / support.length) });
const settings = { steps: 3, runs: 1, temperature: 1, seed: 5, prune: 1e-9 };
const prompt = (support: string[]) => renderPrompt(DEFAULT_TEMPLATE, { distribution: "uniform", support, steps: 3 });
const START = { " ": 0.9, "\n": 0.1 }; // after "Samples:" and after each sample's ",": a space, or the model stops

/**
 * Digits one token each (qwen2.5's qwen2 and mistral-nemo's tekken pre-tokenizers): " 10," = " " "1" "0" ",".
 * Chain rule over every path (after ":" or ","):
 *   " 1,"  .9×.5×.4        = .18        " 10," .9×.5×.3×1    = .135
 *   " 2,"  .9×.3×1         = .27        " 11," .9×.5×.2×.4   = .036
 *   " 9,"  .9×.2×.5        = .09        " 12," .9×.5×.1×1    = .045
 *   leak: "\n" .1 + " 11" then 0/1/2 (.027 + .018 + .009) + " 99" .09 = .244      (sum 1)
 */
const DIGIT_ROWS: BpeBigramSpec["rows"] = {
  ":": START,
  ",": START,
  " ": { "1": 0.5, "2": 0.3, "9": 0.2 },
  "1": { ",": 0.4, "0": 0.3, "1": 0.2, "2": 0.1 },
  "0": { ",": 1 },
  "2": { ",": 1 },
  "9": { ",": 0.5, "9": 0.5 },
};
const DIGIT_RAW: Record<string, number> = { "1": 0.18, "2": 0.27, "9": 0.09, "10": 0.135, "11": 0.036, "12": 0.045 };

/**
 * Up to three digits one token (llama3's llama-bpe): " 12," is " " "12" "," and also " " "1" "2" ",".
 *   " 1,"  .9×.4×.5               = .18        " 10," .9×.1×.8        = .072
 *   " 7,"  .9×.1                  = .09        " 11," .9×.4×.2×.5     = .036
 *   " 12," .9×(.25 + .4×.3×1)     = .333
 *   leak: "\n" .1 + " 123" .135 + " 100" .018 + " 111" .0144 + " 112" .0216 = .289   (sum 1)
 */
const NUMBER_ROWS: BpeBigramSpec["rows"] = {
  ":": START,
  ",": START,
  " ": { "1": 0.4, "12": 0.25, "10": 0.1, "7": 0.1, "123": 0.15 },
  "1": { ",": 0.5, "2": 0.3, "1": 0.2 },
  "2": { ",": 1 },
  "12": { ",": 1 },
  "10": { ",": 0.8, "0": 0.2 },
  "7": { ",": 1 },
  "0": { ",": 1 },
  "123": { ",": 1 },
};
const NUMBER_RAW: Record<string, number> = { "1": 0.18, "7": 0.09, "10": 0.072, "11": 0.036, "12": 0.333 };

const expected = (raw: Record<string, number>) => {
  const sum = Object.values(raw).reduce((a, b) => a + b, 0);
  return { ptoken: SUPPORT.map((a) => (raw[a] ?? 0) / sum), leak: 1 - sum };
};

function assertSteps(label: string, steps: { ptoken: number[]; leak: number }[], want: { ptoken: number[]; leak: number }, n = settings.steps) {
  assert.equal(steps.length, n, label);
  for (const step of steps) {
    step.ptoken.forEach((q, i) => assert.ok(Math.abs(q - (want.ptoken[i] as number)) < 1e-4, `${label}: P_token(${SUPPORT[i]}) = ${q}, want ${want.ptoken[i]}`));
    assert.ok(Math.abs(step.leak - want.leak) < 1e-4, `${label}: leak ${step.leak}, want ${want.leak}`);
  }
}

describe("exact P_token on byte-level BPE models (real engine, real chat templates)", () => {
  const open: TokenBackend[] = [];
  after(async () => {
    for (const b of open) await b.close();
  });
  const backend = async (name: string, spec: BpeBigramSpec) => {
    const path = join(await tempDir(), `${name}.gguf`);
    await writeBpeBigramModel(path, spec);
    const b = await loadLlamaBackend(path);
    open.push(b);
    return b;
  };

  it("qwen2.5 (every digit a token, ChatML) and mistral-nemo (Tekken, [INST]): 1..12 within 1e-4 of the chain rule", async () => {
    for (const family of ["qwen2.5", "mistral-nemo"] as BpeFamilyName[]) {
      const b = await backend(family, { family, rows: DIGIT_ROWS });
      assert.equal(b.templated, true);
      const runs = await runTokenProtocol(b, "sequential", uniform(SUPPORT), prompt(SUPPORT), settings);
      assertSteps(family, runs[0]!.steps, expected(DIGIT_RAW));
    }
  });

  it("llama3 (1-3 digits a token, two tokenisations of 12): 1..12 within 1e-4 of the chain rule", async () => {
    const b = await backend("llama3", { family: "llama3", rows: NUMBER_ROWS });
    const runs = await runTokenProtocol(b, "independent", uniform(SUPPORT), prompt(SUPPORT), settings);
    assertSteps("llama3", runs[0]!.steps, expected(NUMBER_RAW));
  });

  it("bpeELikeSpec on llama3 gives P_task exactly for answers of 1, 2 and 3 digits that share prefixes", async () => {
    const target: Target = { support: ["1", "10", "100", "12", "120", "7"], probs: [0.3, 0.05, 0.2, 0.1, 0.25, 0.1] };
    const b = await backend("llama3-e", bpeELikeSpec("llama3", target));
    const runs = await runTokenProtocol(b, "sequential", target, prompt(target.support), settings);
    for (const step of runs[0]!.steps) {
      step.ptoken.forEach((q, i) => assert.ok(Math.abs(q - (target.probs[i] as number)) < 1e-4, `P_token(${target.support[i]}) = ${q}`));
      assert.ok(step.leak < 1e-4, `leak ${step.leak}`);
    }
  });

  it("a real-size vocabulary (qwen2.5, 151,936 tokens) scores the same values", async () => {
    const b = await backend("qwen-real", { family: "qwen2.5", rows: DIGIT_ROWS, vocabSize: "real" });
    assert.equal(b.vocab.size, 151_936);
    const runs = await runTokenProtocol(b, "sequential", uniform(SUPPORT), prompt(SUPPORT), { ...settings, steps: 2 });
    assertSteps("qwen real size", runs[0]!.steps, expected(DIGIT_RAW), 2);
  });
});

describe("ptalign run on BPE models (CLI)", () => {
  it("--show-prompt shows the family's template with the model's turn left open after the prefill", async () => {
    const dir = await tempDir();
    // (llama3's template: test/synth/bpeEngine.test.ts renders it through the same resolveChatWrapper)
    const want: Partial<Record<BpeFamilyName, RegExp>> = {
      "qwen2.5": /^<\|im_start\|>user\nYou are a random number generator\.[^]*<\|im_end\|>\n<\|im_start\|>assistant\nSamples:\n$/,
      "mistral-nemo": /^BOS\[INST\]You are a random number generator\.[^]*\[\/INST\]Samples:\n$/,
    };
    for (const family of Object.keys(want) as BpeFamilyName[]) {
      const model = join(dir, `${family}.gguf`);
      await writeBpeBigramModel(model, { family, rows: DIGIT_ROWS });
      const shown = await ptalign(["run", "--model", model, "--target", "uniform(1,12)", "--show-prompt"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, want[family] as RegExp, `${family}: ${shown.stdout}`);
      assert.match(shown.stdout, /Draw 50 independent samples/);
      const afterPrefill = shown.stdout.slice(shown.stdout.lastIndexOf("Samples:"));
      assert.equal(afterPrefill, "Samples:\n", `${family}: nothing closes the model's turn`);
    }
  });

  it("--json: the measured P_token over 1..12 is the chain rule's, end to end", async () => {
    const dir = await tempDir();
    const model = join(dir, "qwen.gguf");
    await writeBpeBigramModel(model, { family: "qwen2.5", rows: DIGIT_ROWS });
    const res = await ptalign(["run", "--model", model, "--target", "uniform(1,12)", "--steps", "2", "--runs", "1", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    assert.deepEqual(result.target.support, SUPPORT);
    assertSteps("cli", result.runs[0]!.steps, expected(DIGIT_RAW), 2);
  });
});
