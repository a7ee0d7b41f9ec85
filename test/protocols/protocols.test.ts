import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { DEFAULT_TEMPLATE, renderPrompt, runTokenProtocol } from "../../src/protocols/index.ts";
import { dLikeExpected, MULTI_TOKEN_LEAK, MULTI_TOKEN_RAW, writeDLikeModel, writeMultiTokenModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const close = (a: number, b: number, tol = 1e-4) => Math.abs(a - b) <= tol;
const settings = { steps: 10, runs: 2, temperature: 1, seed: 3, prune: 1e-7 };
const prompt = (support: string[]) => renderPrompt(DEFAULT_TEMPLATE, { distribution: "", support, steps: 10 });

describe("protocols on generated models (real engine)", () => {
  let d: TokenBackend;
  let multi: TokenBackend;
  before(async () => {
    const dir = await tempDir();
    d = await loadLlamaBackend(await writeDLikeModel(dir));
    multi = await loadLlamaBackend(await writeMultiTokenModel(dir));
  });
  after(async () => {
    await d.close();
    await multi.close();
  });

  it("independent: every step starts from the prompt alone, so P_token is the post-prompt row each time", async () => {
    const target = parseDist("extreme");
    const runs = await runTokenProtocol(d, "independent", target, prompt(target.support), settings);
    for (const step of runs.flatMap((r) => r.steps)) step.ptoken.forEach((q, i) => assert.ok(close(q, dLikeExpected(null)[i]!)));
  });

  it("sequential evaluates each step's answer tokens, not the whole context again", async () => {
    const target = parseDist("extreme");
    const before = d.stats.evaluated;
    await d.reset();
    const steps = 40;
    await runTokenProtocol(d, "sequential", target, prompt(target.support), { ...settings, steps, runs: 1 });
    const promptLength = d.encodePrompt(prompt(target.support)).length;
    // Prompt once, then per step: re-read the last token (1) + the 4 one-token options... far below T × context.
    const perStep = (d.stats.evaluated - before - promptLength) / steps;
    assert.ok(perStep < 12, `evaluated ${perStep} tokens per step`);
  });

  it("batch: the model writes its samples freely; P_token is read at every answer position", async () => {
    const target = parseDist("extreme");
    const runs = await runTokenProtocol(d, "batch", target, prompt(target.support), settings);
    for (const run of runs) {
      assert.equal(run.steps.length, 10);
      run.steps.forEach((s, t) => {
        const expected = dLikeExpected(t === 0 ? null : run.steps[t - 1]!.sample);
        s.ptoken.forEach((q, i) => assert.ok(close(q, expected[i]!), `step ${t}`));
        assert.ok(target.support.includes(s.sample!));
      });
    }
  });

  it("batch: text outside the support is kept as raw and its sample is null, and the run goes on", async () => {
    const target = parseDist("uniform(1,12)");
    const runs = await runTokenProtocol(multi, "batch", target, prompt(target.support), { ...settings, steps: 40, runs: 1 });
    const steps = runs[0]!.steps;
    assert.equal(steps.length, 40);
    const off = steps.filter((s) => s.sample === null);
    // Free text leaves the support with probability .205 per answer: 40 answers without one would be (0.795)^40 ≈ 1e-4.
    assert.ok(off.length > 0);
    for (const s of off) assert.ok(s.raw !== undefined && !target.support.includes(s.raw.trim()), `raw ${s.raw}`);
    const total = Object.values(MULTI_TOKEN_RAW).reduce((a, b) => a + b, 0);
    for (const s of steps) {
      assert.ok(close(s.leak, MULTI_TOKEN_LEAK));
      target.support.forEach((a, i) => assert.ok(close(s.ptoken[i]!, (MULTI_TOKEN_RAW[a] ?? 0) / total)));
    }
  });

  it("temperature 0 is greedy: the most probable answer, every time", async () => {
    const target = parseDist("uniform(1,12)");
    const runs = await runTokenProtocol(multi, "sequential", target, prompt(target.support), { ...settings, temperature: 0 });
    for (const s of runs.flatMap((r) => r.steps)) {
      assert.equal(s.sample, "2"); // .25 beats .23
      assert.equal(s.ptoken[1], 1);
    }
  });
});
