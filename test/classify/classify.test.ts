import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSimSpec } from "../../src/backends/sim.ts";
import { simulateRuns } from "../../src/protocols/simulate.ts";
import { assess, classify, DEFAULT_THRESHOLDS, resolveThresholds } from "../../src/classify/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { InputError } from "../../src/errors.ts";
import { computeMetrics } from "../../src/metrics/index.ts";
import type { Run, Target } from "../../src/types.ts";

// Dyadic probabilities so that TV values and their means are exact in binary floating point.
const coin: Target = { support: ["a", "b"], probs: [0.5, 0.5] };
const four: Target = { support: ["a", "b", "c", "d"], probs: [0.25, 0.25, 0.25, 0.25] };

/** A run whose steps cycle through the given distributions. */
function run(cycle: number[][], steps = 20, seed = 0): Run {
  return {
    seed,
    steps: Array.from({ length: steps }, (_, t) => ({ t, ptoken: cycle[t % cycle.length]!, leak: 0, sample: null })),
  };
}
/** n identical runs: the bootstrap intervals collapse to the point, so only the rule decides. */
function same(cycle: number[][], n = 5): Run[] {
  return Array.from({ length: n }, (_, i) => run(cycle, 20, i));
}

describe("verdict rules on hand-built runs", () => {
  it("E at the exact atvd boundary (≤ is inclusive), mixed just past it", () => {
    const v = classify(coin, same([[0.75, 0.25]]));
    assert.equal(v.type, "E");
    assert.match(v.reasons[0]!, /^atvd 0\.25 ≤ 0\.25 and volatility 0\.00 ≤ 0\.2: each step stays close to P_task$/);
    assert.deepEqual(v.ci, { atvd: [0.25, 0.25], volatility: [0, 0] });

    const w = classify(coin, same([[0.7578125, 0.2421875]]));
    assert.equal(w.type, "mixed");
    assert.match(w.reasons[0]!, /^no rule holds: not E \(atvd 0\.26 > 0\.25\), not D \(volatility 0\.00 < 0\.3\), not collapsed \(marginal_tvd 0\.26 < 0\.3\)$/);
  });

  it("E at the exact volatility boundary (threshold set to the measured value)", () => {
    const runs = same([[0.625, 0.375], [0.375, 0.625]]); // volatility 0.25, atvd 0.125
    assert.equal(classify(coin, runs).type, "mixed"); // 0.25 > 0.2 by default
    assert.equal(classify(coin, runs, { thresholds: { e_volatility: 0.25 } }).type, "E");
    assert.equal(classify(coin, runs, { thresholds: { e_volatility: 0.2499 } }).type, "mixed");
  });

  it("D: concentrated steps whose answer changes; boundaries on concentration and volatility are inclusive", () => {
    const v = classify(coin, same([[1, 0], [0, 1]]));
    assert.equal(v.type, "D");
    assert.match(v.reasons[0]!, /^concentration 1\.00 ≥ 0\.7 and volatility 1\.00 ≥ 0\.3: each step bets on one answer/);

    const edge = same([[0.75, 0.25], [0.25, 0.75]]); // concentration 0.75, volatility 0.5, atvd 0.25
    assert.equal(classify(coin, edge, { thresholds: { d_concentration: 0.75, d_volatility: 0.5 } }).type, "D");
    assert.equal(classify(coin, edge, { thresholds: { d_concentration: 0.7500001, d_volatility: 0.5 } }).type, "mixed");
    assert.equal(classify(coin, edge, { thresholds: { d_concentration: 0.75, d_volatility: 0.5000001 } }).type, "mixed");
  });

  it("collapsed vs D is split at d_volatility (collapsed needs volatility strictly below it)", () => {
    // concentration 0.875, volatility 0.25, marginal_tvd 0.375
    const runs = same([[1, 0], [0.75, 0.25]]);
    const c = classify(coin, runs);
    assert.equal(c.type, "collapsed");
    assert.match(c.reasons[0]!, /^concentration 0\.88 ≥ 0\.7, volatility 0\.25 < 0\.3 and marginal_tvd 0\.38 ≥ 0\.3: /);
    assert.equal(classify(coin, runs, { thresholds: { d_volatility: 0.25 } }).type, "D");
    assert.equal(classify(coin, runs, { thresholds: { d_volatility: 0.2500001 } }).type, "collapsed");
  });

  it("collapsed at the exact marginal boundary, mixed just below", () => {
    const runs = same([[0.875, 0.125]]); // marginal_tvd 0.375, concentration 0.875, volatility 0
    assert.equal(classify(coin, runs, { thresholds: { collapsed_marginal: 0.375 } }).type, "collapsed");
    assert.equal(classify(coin, runs, { thresholds: { collapsed_marginal: 0.3750001 } }).type, "mixed");
  });

  it("mixed: no rule holds and none is within reach of the intervals", () => {
    const v = classify(four, same([[0.625, 0.375, 0, 0]])); // atvd 0.5, concentration 0.625
    assert.equal(v.type, "mixed");
    assert.match(v.reasons[0]!, /not E \(atvd 0\.50 > 0\.25\), not D \(concentration 0\.63 < 0\.7 and volatility 0\.00 < 0\.3\), not collapsed \(concentration 0\.63 < 0\.7\)/);
  });

  it("E takes precedence when overridden thresholds make two rules overlap", () => {
    const runs = same([[0.875, 0.125]]);
    const v = classify(coin, runs, { thresholds: { e_atvd: 0.4, collapsed_marginal: 0.3 } });
    assert.equal(v.type, "E");
  });
});

describe("uncertain", () => {
  it("when the atvd interval straddles the E threshold", () => {
    const atvds = [0.125, 0.375, 0.125, 0.375, 0.1875, 0.3125]; // mean 0.25: E at the point estimate
    const runs = atvds.map((a, i) => run([[0.5 + a, 0.5 - a]], 20, i));
    const a = assess(coin, runs, { seed: 1 });
    assert.equal(a.decision, "E");
    assert.equal(a.verdict.type, "uncertain");
    const [lo, hi] = a.verdict.ci.atvd;
    assert.ok(lo < 0.25 && hi > 0.25, `ci ${lo}..${hi}`);
    assert.match(a.verdict.reasons[1]!, /^uncertain: atvd \[0\.\d+, 0\.\d+\] straddles 0\.25, so E is not established$/);
    assert.match(a.verdict.reasons[2]!, /1000 bootstrap resamples of the 6 runs/);
  });

  it("when the point estimates give D but the volatility interval reaches below d_volatility", () => {
    // 3 runs alternating one-hot (volatility 1) and 5 constant one-hot runs (volatility 0): volatility 3/8 = 0.375,
    // above the default d_volatility (0.3), with a bootstrap interval that reaches below it.
    const runs = [
      ...Array.from({ length: 3 }, (_, i) => run([[1, 0], [0, 1]], 20, i)),
      ...Array.from({ length: 5 }, (_, i) => run([[1, 0]], 20, 10 + i)),
    ];
    const a = assess(coin, runs, { seed: 1 });
    assert.equal(a.decision, "D");
    assert.equal(a.verdict.type, "uncertain");
    assert.equal(a.thresholds.d_volatility, 0.3); // the threshold in force is the default
    assert.ok(a.box.volatility[0] < 0.3 && a.box.volatility[1] > 0.3, `ci ${a.box.volatility.join("..")}`);
    assert.match(a.verdict.reasons[1]!, /^uncertain: volatility \[0\.\d+, 0\.\d+\] straddles 0\.3, so D is not established$/);
  });

  it("when the point estimates give mixed but a rule (here D only) is within the intervals", () => {
    const oneHots = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
    const halves = [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]];
    const runs = [
      ...Array.from({ length: 6 }, (_, i) => run(oneHots, 20, i)), // concentration 1, volatility 1, marginal 0
      ...Array.from({ length: 10 }, (_, i) => run(halves, 20, 10 + i)), // concentration 0.5, volatility 1, marginal 0
    ];
    const a = assess(four, runs, { seed: 2 }); // concentration 11/16 = 0.6875 < 0.7
    assert.equal(a.decision, "mixed");
    assert.match(a.verdict.reasons[0]!, /not D \(concentration 0\.69 < 0\.7\)/);
    assert.equal(a.verdict.type, "uncertain");
    assert.deepEqual(a.check.reachable, ["D"]);
    assert.match(a.verdict.reasons[1]!, /^uncertain: no rule holds at the point estimates, but D is within the 95% intervals \(concentration \[/);
  });

  it("never for stable cases, and bootstrap: 0 gives point intervals", () => {
    const runs = [0.125, 0.375].map((a, i) => run([[0.5 + a, 0.5 - a]], 20, i));
    const a = assess(coin, runs, { bootstrap: 0 });
    assert.deepEqual(a.box.atvd, [0.25, 0.25]);
    assert.equal(a.verdict.type, "E");
    assert.match(a.verdict.reasons.at(-1)!, /bootstrap disabled/);
  });
});

describe("single run: moving-block bootstrap over steps", () => {
  const flat = parseDist("flat");
  it("classifies one sim:d run as D with a documented block length", () => {
    const runs = simulateRuns(parseSimSpec("sim:d"), flat, { steps: 50, runs: 1, seed: 3 });
    const a = assess(flat, runs);
    assert.equal(a.verdict.type, "D");
    assert.deepEqual(a.method, { kind: "blocks", resamples: 1000, steps: 50, blockLength: 4 });
    assert.match(a.verdict.reasons.at(-1)!, /moving-block bootstrap resamples of the single run's 50 steps \(block length 4\)/);
    const [lo, hi] = a.verdict.ci.volatility;
    assert.ok(lo < a.estimates.volatility && a.estimates.volatility < hi && hi - lo > 0.01);
  });

  it("has no artificial transitions: a constant run has zero volatility in every resample", () => {
    const a = assess(coin, [run([[0.75, 0.25]], 30)]);
    assert.deepEqual(a.box.volatility, [0, 0]);
    assert.equal(a.verdict.type, "E");
  });

  it("a drifting single run straddles: first half E-like, second half far", () => {
    const steps = [...run([[0.5, 0.5]], 25).steps, ...run([[0.875, 0.125]], 25).steps].map((s, t) => ({ ...s, t }));
    const a = assess(coin, [{ seed: 0, steps }], { seed: 4 });
    assert.equal(a.decision, "E"); // atvd 0.1875, volatility 1/49·0.375
    assert.equal(a.verdict.type, "uncertain");
  });
});

describe("determinism, consistency and validation", () => {
  const flat = parseDist("flat");
  const runs = simulateRuns(parseSimSpec("sim:d?peak=0.6"), flat, { steps: 30, runs: 4, seed: 11 });

  it("is a deterministic function of the seed", () => {
    assert.deepEqual(classify(flat, runs, { seed: 5 }), classify(flat, runs, { seed: 5 }));
    assert.deepEqual(classify(flat, runs), classify(flat, runs, { seed: 0 }));
    assert.notDeepEqual(classify(flat, runs, { seed: 5 }).ci, classify(flat, runs, { seed: 6 }).ci);
  });

  it("point estimates are the run-averaged metrics of computeMetrics", () => {
    const a = assess(flat, runs);
    const m = computeMetrics(flat, runs);
    for (const k of ["atvd", "volatility", "concentration", "marginal_tvd"] as const) {
      assert.ok(Math.abs(a.estimates[k] - m[k]) < 1e-12, k);
    }
  });

  it("validates threshold overrides with a clear InputError", () => {
    const cases: [unknown, RegExp][] = [
      [{ e_atvd: 2 }, /invalid classification threshold e_atvd: must be a number in \[0, 1\] \(got 2\)/],
      [{ d_volatility: -0.1 }, /d_volatility.*got -0\.1/],
      [{ e_volatility: "0.2" }, /e_volatility.*got "0\.2"/],
      [{ e_volatility: Number.NaN }, /e_volatility.*got NaN/],
      [{ atvd: 0.3 }, /unknown classification threshold "atvd"; valid thresholds: e_atvd, e_volatility, d_concentration, d_volatility, collapsed_marginal/],
      [5, /thresholds/],
    ];
    for (const [bad, re] of cases) {
      assert.throws(() => resolveThresholds(bad), (e: unknown) => e instanceof InputError && re.test(e.message), JSON.stringify(bad));
      assert.throws(() => classify(coin, same([[1, 0]]), { thresholds: bad as never }), InputError);
    }
    assert.deepEqual(resolveThresholds({ e_atvd: 0.1 }), { ...DEFAULT_THRESHOLDS, e_atvd: 0.1 });
    assert.deepEqual(resolveThresholds(undefined), DEFAULT_THRESHOLDS);
    assert.deepEqual(DEFAULT_THRESHOLDS, { e_atvd: 0.25, e_volatility: 0.2, d_concentration: 0.7, d_volatility: 0.3, collapsed_marginal: 0.3, off_format_leak: 0.5 });
  });

  it("a run of a single step has no volatility: uncertain, with the reason", () => {
    const a = assess(coin, [run([[1, 0]], 20, 0), run([[1, 0]], 1, 7)]);
    assert.equal(a.verdict.type, "uncertain");
    assert.equal(a.method.kind, "none");
    assert.match(a.verdict.reasons[0]!, /run #2 \(seed 7\) has 1 step; volatility compares consecutive steps/);
    assert.deepEqual(a.verdict.ci.atvd, [0.5, 0.5]);
  });

  it("validates runs and options", () => {
    assert.throws(() => classify(coin, []), /at least one run/);
    assert.throws(() => classify(coin, [{ seed: 3, steps: [] }]), /run #1 \(seed 3\): run has no steps/);
    assert.throws(() => classify(coin, [run([[1, 0, 0]], 3)]), /run #1 \(seed 0\): step t=0 has 3 probabilities, expected 2/);
    assert.throws(() => classify(coin, same([[1, 0]]), { bootstrap: -1 }), (e: unknown) => e instanceof InputError && /bootstrap/.test(e.message));
    assert.throws(() => classify(coin, same([[1, 0]]), { bootstrap: 1.5 }), InputError);
  });
});

describe("acceptance: sim families get their verdicts on both presets", () => {
  // Seeds 1..5 (runs seeded 1000·s + r, bootstrap seeded s), the same convention as scripts/calibrate.ts. They were not
  // picked: but note from the calibration (docs/classification.md §3) that at 5 runs × 50 steps sim:d on `extreme` is
  // called `uncertain` for 2 of 100 seeds (D 98/100), because its expected volatility (0.95 × (1 − Σp²) ≈ 0.46) is
  // not far above d_volatility = 0.3 (at the former 0.35 it was 15/100). Changing the generator's consumption may
  // therefore, rarely, flip one of these cases to uncertain.
  const cases = [
    ["sim:d", "D"],
    ["sim:e", "E"],
    ["sim:collapsed", "collapsed"],
  ] as const;
  for (const preset of ["extreme", "flat"]) {
    const target = parseDist(preset);
    for (const [spec, expected] of cases) {
      it(`${spec} on ${preset} → ${expected} (5 seeds, 5 runs × 50 steps)`, () => {
        for (const seed of [1, 2, 3, 4, 5]) {
          const runs = simulateRuns(parseSimSpec(spec), target, { steps: 50, runs: 5, seed: seed * 1000, temperature: 1 });
          const v = classify(target, runs, { seed });
          assert.equal(v.type, expected, `seed ${seed}: ${v.reasons.join(" | ")}`);
        }
      });
    }
  }
});
