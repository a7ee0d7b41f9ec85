import { strict as assert } from "node:assert";
import { join } from "node:path";
import { describe, it } from "node:test";
import { analyzeRuns, argmaxAutocorrelation, effectiveTemperature, historyDependence } from "../../src/analysis/index.ts";
import { parseSimSpec } from "../../src/backends/sim.ts";
import { simulateRuns } from "../../src/protocols/simulate.ts";
import { eLikeSpec, writeBigramModel } from "../../src/synth/index.ts";
import type { Target } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const P: Target = { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] };

describe("analysis: history dependence", () => {
  it("a repeat-avoiding sim model gets a negative coefficient whose CI excludes 0 (exactly `repeat` at T = 1)", () => {
    const runs = simulateRuns(parseSimSpec("sim:e?repeat=-0.5"), P, { steps: 40, runs: 8, seed: 11 });
    const h = historyDependence(P, runs);
    assert.ok(h.coefficient! < 0 && h.ci![1] < 0, JSON.stringify(h));
    assert.ok(Math.abs(h.coefficient! + 0.5) < 0.05, `coefficient ${h.coefficient}`);
  });
  for (const spec of ["sim:e", "sim:d"]) {
    it(`memoryless ${spec}: the CI contains 0`, () => {
      const h = historyDependence(P, simulateRuns(parseSimSpec(spec), P, { steps: 40, runs: 8, seed: 11 }));
      assert.ok(h.ci![0] < 0 && h.ci![1] > 0, JSON.stringify(h.ci));
    });
  }
  it("argmax autocorrelation: 1 for a constant argmax, ≈ 0 for sim:d, negative for a cycling argmax", () => {
    const q = (k: number) => [0, 1, 2, 3].map((i) => (i === k ? 0.9 : 0.1 / 3));
    const run = (ks: number[]) => [{ seed: 0, steps: ks.map((k, t) => ({ t, ptoken: q(k), leak: 0, sample: String(k + 1) })) }];
    assert.equal(argmaxAutocorrelation(run([1, 1, 1, 1])), 1);
    assert.ok(argmaxAutocorrelation(run([0, 1, 2, 3, 0, 1, 2, 3]))! < -0.3);
    const d = argmaxAutocorrelation(simulateRuns(parseSimSpec("sim:d"), P, { steps: 60, runs: 8, seed: 5 }))!;
    assert.ok(Math.abs(d) < 0.15, `sim:d ${d}`);
  });
});

describe("analysis: effective temperature", () => {
  it("temperature cannot fix a D-model: T* leaves a large atvd", () => {
    const e = effectiveTemperature(P, simulateRuns(parseSimSpec("sim:d"), P, { steps: 40, runs: 4, seed: 2 }))!;
    assert.ok(e.atvd > 0.15, JSON.stringify(e));
  });

  it("a generated GGUF whose logits are (log P_task)/2: T* = 0.5 within 1e-3, predicted atvd ≈ 0, full entropy recorded", async () => {
    const dir = await tempDir();
    const flat: Target = { support: P.support, probs: P.probs.map((p) => Math.sqrt(p) / P.probs.reduce((a, b) => a + Math.sqrt(b), 0)) };
    const model = join(dir, "flat.gguf");
    await writeBigramModel(model, eLikeSpec(flat, "half-logits"));
    const out = join(dir, "res");
    const run = await ptalign(["run", "--model", model, "--target", "extreme", "--steps", "4", "--runs", "1", "--seed", "1", "--out", out]);
    assert.equal(run.code, 0, run.stderr);
    const a = await ptalign(["analyze", out, "--json"]);
    assert.equal(a.code, 0, a.stderr);
    const [res] = JSON.parse(a.stdout) as ReturnType<typeof analyzeRuns>[];
    const et = res!.effective_temperature!;
    assert.ok(Math.abs(et.T - 0.5) < 1e-3, `T* ${et.T}`);
    assert.ok(et.atvd < 1e-3 && et.atvdAt1 > 0.1, JSON.stringify(et));
    // The row after the prompt and after "," lists only the answers: the full entropy is that of q (plus float noise).
    const hq = -flat.probs.reduce((s, p) => s + p * Math.log(p), 0);
    assert.ok(Math.abs(res!.entropy_full! - hq) < 1e-3, `entropy_full ${res!.entropy_full} vs ${hq}`);
    assert.ok(res!.leak < 1e-6 && Math.abs(res!.support_mass - 1) < 1e-6);
    const margin = Math.log(flat.probs[1]!) - Math.log(flat.probs[0]!);
    assert.ok(Math.abs(res!.top1_margin! - margin) < 1e-3);
  });
});

describe("ptalign advise", () => {
  it("ranks sim:e first for calibration and sim:d first for diversity, with reasons and a temperature from the sweep", async () => {
    const dir = join(await tempDir(), "res");
    for (const model of ["sim:e", "sim:d"]) for (const T of ["0.7", "1"]) {
      const r = await ptalign(["run", "--model", model, "--target", "extreme", "--steps", "30", "--runs", "4", "--temperature", T, "--seed", "3", "--out", dir]);
      assert.equal(r.code, 0, r.stderr);
    }
    const cal = await ptalign(["advise", dir, "--prefer", "calibration", "--json"]);
    assert.equal(cal.code, 0, cal.stderr);
    const c = JSON.parse(cal.stdout) as { ranking: { model: string; score: number; reason: string }[]; temperature: number };
    assert.deepEqual(c.ranking.map((r) => r.model.replace(/\?.*$/, "")), ["sim:e", "sim:d"]);
    assert.ok(c.ranking.every((r) => r.reason.length > 0 && !r.reason.includes("\n")));
    assert.ok(c.ranking[0]!.score > c.ranking[1]!.score);
    assert.equal(c.temperature, 1);
    const div = JSON.parse((await ptalign(["advise", dir, "--prefer", "diversity", "--json"])).stdout) as typeof c;
    assert.equal(div.ranking[0]!.model.replace(/\?.*$/, ""), "sim:d");
    assert.ok([0.7, 1].includes(div.temperature));
    const bad = await ptalign(["advise", dir, "--weights", "speed=1"]);
    assert.equal(bad.code, 2);
  });
});
