// Deployed sampler settings (top-k, top-p, min-p, temperature) applied exactly, in llama.cpp's or vLLM's order:
// hand-worked distributions, the sim models and a generated GGUF model.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../../src/protocols/index.ts";
import { measure } from "../../src/run.ts";
import { applySampler } from "../../src/scoring/index.ts";
import { completePieces, writeBigramModel } from "../../src/synth/index.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const near = (a: ArrayLike<number>, b: number[], tol = 1e-4) => assert.ok(b.every((x, i) => Math.abs(a[i]! - x) <= tol), `${Array.from(a).map((x) => x.toFixed(4))} vs ${b}`);

describe("applySampler: hand-worked", () => {
  const p = [0.7, 0.2, 0.1];
  it("top-p 0.8 drops the minority answer (.7 + .2 = .9 ≥ .8), min-p 0.1 keeps it (.1 ≥ .1 × .7)", () => {
    near(applySampler(p, 1, { order: "llama.cpp", topP: 0.8 }), [0.7 / 0.9, 0.2 / 0.9, 0]);
    near(applySampler(p, 1, { order: "llama.cpp", minP: 0.1 }), [0.7, 0.2, 0.1]);
    near(applySampler(p, 1, { order: "llama.cpp", minP: 0.2 }), [0.7 / 0.9, 0.2 / 0.9, 0]); // .1 < .14
    near(applySampler(p, 1, { order: "vllm", topK: 1 }), [1, 0, 0]);
  });
  it("the order matters: min-p 0.3 at T = 2 keeps one token in llama.cpp (truncate, then temper) and all three in vLLM (temper, then truncate)", () => {
    // llama.cpp: keep p ≥ .21 → only .7 → [1, 0, 0]. vLLM: √p normalised = [.5229, .2795, .1976], keep ≥ .3 × .5229 = .157 → all.
    near(applySampler(p, 2, { order: "llama.cpp", minP: 0.3 }), [1, 0, 0]);
    const s = p.map(Math.sqrt);
    const z = s.reduce((a, b) => a + b, 0);
    near(applySampler(p, 2, { order: "vllm", minP: 0.3 }), s.map((x) => x / z));
  });
});

describe("sim models apply the sampler to their answers, the leak standing for the rest of the vocabulary", () => {
  const target = parseDist("{1:0.7,2:0.2,3:0.1}");
  const run = (model: string, sampler: object) => measure({ model, target, protocol: "independent", settings: { steps: 20, runs: 2, temperature: 1, seed: 1, prune: 0, sampler: { order: "llama.cpp", ...sampler } }, template: DEFAULT_TEMPLATE });
  it("top-p 0.8 removes answer 3 from ptoken and from the samples", async () => {
    const r = await run("sim:e?noise=0&leak=0", { topP: 0.8 });
    for (const s of r.runs.flatMap((x) => x.steps)) {
      near(s.ptoken, [0.7 / 0.9, 0.2 / 0.9, 0]);
      assert.notEqual(s.sample, "3");
    }
  });
  it("with leak 0.5 the rest of the vocabulary is the top token: top-p 0.8 keeps it and answer 1 only", async () => {
    // full = [.35, .1, .05, rest .5]: .5 + .35 = .85 ≥ .8 → ptoken [1, 0, 0], leak .5 / .85.
    const r = await run("sim:e?noise=0&leak=0.5", { topP: 0.8 });
    const s = r.runs[0]!.steps[0]!;
    near(s.ptoken, [1, 0, 0]);
    assert.ok(Math.abs(s.leak - 0.5 / 0.85) < 1e-9);
  });
});

describe("generated GGUF model: ptoken is what the deployed sampler draws from", () => {
  let m: TokenBackend;
  const target = parseDist("{1:0.5,2:0.5}");
  const prompt = renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support: target.support, steps: 5 });
  before(async () => {
    const path = join(await tempDir(), "skew.gguf");
    const start = { "▁1": 0.6, "▁2": 0.3, x: 0.1 };
    await writeBigramModel(path, { name: "skew", pieces: completePieces(["▁", ",", "x", "▁1", "▁2"]), defaultRow: start, rows: { ",": start, "▁1": { ",": 1 }, "▁2": { ",": 1 }, x: { ",": 1 } } });
    m = await loadLlamaBackend(path);
  });
  after(() => m.close());
  const first = async (sampler?: object) => (await runTokenProtocol(m, "independent", target, prompt, { steps: 3, runs: 1, temperature: 1, seed: 1, prune: 0, ...(sampler ? { sampler: { order: "llama.cpp" as const, ...sampler } } : {}) }))[0]!.steps[0]!;
  it("no truncation: [.6, .3]/.9 with leak .1; top-k 1: only answer 1; min-p 0.4: both answers, x cut", async () => {
    const plain = await first();
    near(plain.ptoken, [2 / 3, 1 / 3]);
    assert.ok(Math.abs(plain.leak - 0.1) < 1e-4);
    const k1 = await first({ topK: 1 });
    near(k1.ptoken, [1, 0]);
    assert.ok(k1.leak < 1e-6);
    const mp = await first({ minP: 0.4 });
    near(mp.ptoken, [2 / 3, 1 / 3]);
    assert.ok(mp.leak < 1e-6, `leak ${mp.leak}`);
  });
});

describe("CLI", () => {
  it("records the sampler and refuses nonsense in one line", async () => {
    const ok = await ptalign(["run", "--model", "sim:e?noise=0&leak=0", "--target", "{1:0.7,2:0.2,3:0.1}", "--top-p", "0.8", "--sampler-order", "vllm", "--steps", "5", "--runs", "2", "--no-save", "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const r = JSON.parse(ok.stdout) as { settings: { sampler: unknown }; runs: { steps: { ptoken: number[] }[] }[] };
    assert.deepEqual(r.settings.sampler, { order: "vllm", topP: 0.8 });
    near(r.runs[0]!.steps[0]!.ptoken, [0.7 / 0.9, 0.2 / 0.9, 0]);
    const bad = await ptalign(["run", "--model", "sim:e", "--target", "extreme", "--top-p", "0", "--no-save"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  });
});

describe("remote text scoring refuses what it cannot apply exactly", () => {
  it("echo / top-k scoring: one line naming the exact paths", async () => {
    const { checkTextSettings } = await import("../../src/protocols/index.ts");
    assert.throws(() => checkTextSettings("sequential", { temperature: 1, sampler: { order: "vllm", topK: 5 } }), (e: Error) => e.name === "InputError" && !e.message.includes("\n") && /--scoring tokens/.test(e.message));
    assert.doesNotThrow(() => checkTextSettings("sequential", { temperature: 1, sampler: { order: "vllm" } }));
  });
});
