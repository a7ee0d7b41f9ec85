// sim:d-plan: a D model that plans its sequence (docs/classification.md, "Simulated models").
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSimSpec } from "../../src/backends/sim.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { simulateRuns } from "../../src/protocols/simulate.ts";
import { makeRng } from "../../src/rng.ts";

const extreme = parseDist("extreme");

test("sim:d-plan: canonical spec, parameters checked like every family", () => {
  assert.equal(parseSimSpec("sim:d-plan").spec, "sim:d-plan?peak=0.95&plan=2&leak=0.01&repeat=0");
  assert.throws(() => parseSimSpec("sim:d-plan?plan=-1"), /bad value "-1" for plan .*need 0 ≤ plan ≤ 50/);
  assert.throws(() => parseSimSpec("sim:d-plan?noise=1"), /unknown parameter "noise" for sim:d-plan/);
});

test("sim:d-plan commits like sim:d: peak on one answer, the rest follows p", () => {
  const m = parseSimSpec("sim:d-plan?peak=0.9&leak=0");
  const q = m.step(extreme, [1, 1, 1], makeRng(1)).ptoken;
  const top = q.indexOf(Math.max(...q));
  q.forEach((v, i) => assert.ok(Math.abs(v - (0.1 * extreme.probs[i]! + (i === top ? 0.9 : 0))) < 1e-12));
});

/** The largest |n_t(x) − t·p(x)| over every prefix of every run: how far the counts stray from their shares. */
function worstDiscrepancy(spec: string): number {
  let worst = 0;
  for (const run of simulateRuns(parseSimSpec(spec), extreme, { steps: 200, runs: 10, seed: 3 })) {
    const counts = [0, 0, 0, 0];
    run.steps.forEach((s, t) => {
      counts[extreme.support.indexOf(s.sample!)]! += 1;
      counts.forEach((n, x) => (worst = Math.max(worst, Math.abs(n - (t + 1) * extreme.probs[x]!))));
    });
  }
  return worst;
}

test("a strong planner keeps every prefix's counts within 1.5 of t·p (peak 1, plan 50); sim:d's stray like i.i.d. draws", () => {
  // Measured: 1.2 for d-plan (10 runs × 200 steps, seed 3), 16.5 for sim:d (i.i.d. counts stray by ~√(t·p(1−p))).
  assert.ok(worstDiscrepancy("sim:d-plan?peak=1&plan=50&leak=0") < 1.5);
  assert.ok(worstDiscrepancy("sim:d?peak=1&leak=0") > 5);
});

test("sim:d-plan's committed answer avoids what was drawn too often: after ten 2s on extreme, 2 is never the peak at plan 50", () => {
  const m = parseSimSpec("sim:d-plan?peak=1&plan=50&leak=0");
  for (let seed = 0; seed < 20; seed++) assert.equal(m.step(extreme, new Array(10).fill(1), makeRng(seed)).ptoken[1], 0);
});
