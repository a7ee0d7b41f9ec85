import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { continuousFunctions, parseDist } from "../../src/distributions/index.ts";
import { chiSquareMerged, computeMetrics, ksOneSample, ksTwoSample, w1Distribution } from "../../src/metrics/index.ts";
import type { Run } from "../../src/types.ts";

const near = (a: number | null | undefined, b: number, tol: number, what: string): void => {
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
};
const N01 = continuousFunctions({ family: "normal", params: { mu: 0, sigma: 1 } });

// Reference values: scipy's own test suite (kstest of linspace against norm, values from R) and scipy 1.17 run here
// on the same inputs (kstest, ks_2samp(method="asymp"), wasserstein_distance, chisquare, quad of |F_n − F|).
describe("one-sample KS (exact p-value)", () => {
  it("matches scipy's test values from R", () => {
    const a = ksOneSample(Array.from({ length: 9 }, (_, i) => -1 + i * 0.25), N01.cdf)!;
    near(a.ks, 0.15865525393145705, 1e-12, "D");
    near(a.ks_p, 0.95164069201518386, 1e-9, "p");
    const b = ksOneSample(Array.from({ length: 9 }, (_, i) => -15 + (i * 30) / 8), N01.cdf)!;
    near(b.ks, 0.44435602715924361, 1e-12, "D");
    near(b.ks_p, 0.038850140086788665, 1e-9, "p");
  });
  it("matches scipy with ties and another family", () => {
    const a = ksOneSample([-1.2, -0.3, 0.0, 0.4, 0.4, 0.9, 1.7, 2.5], N01.cdf)!;
    near(a.ks, 0.2804217416103242, 1e-12, "D");
    near(a.ks_p, 0.47293016723850145, 1e-9, "p");
    const e = continuousFunctions({ family: "exponential", params: { lambda: 1 } });
    const b = ksOneSample([0.1, 0.5, 0.5, 1.2, 2.0, 3.1], e.cdf)!;
    near(b.ks, 0.22680267362069992, 1e-12, "D");
    near(b.ks_p, 0.8563353007415584, 1e-9, "p");
    assert.equal(ksOneSample([], N01.cdf), null);
  });
});

describe("peers' recipe", () => {
  it("two-sample KS matches scipy ks_2samp(method='asymp')", () => {
    const r = ksTwoSample([0.1, 0.5, 0.5, 1.2, 2.0, 3.1, -0.4], [0.3, 0.2, -1.0, 1.5, 0.7, 0.8, 2.2, 0.0, -0.1])!;
    near(r.ks, 0.2698412698412699, 1e-12, "D");
    near(r.ks_p, 0.8576684488078146, 1e-9, "p");
  });
  it("chi-square merges tail cells with expected count < 5 (scipy chisquare on the merged cells)", () => {
    const p = parseDist("binomial(10,0.5)").probs;
    const r = chiSquareMerged([0, 1, 2, 5, 9, 8, 7, 5, 2, 1, 0], p)!;
    assert.equal(r.df, 4);
    near(r.chi2, 0.9673881673881668, 1e-10, "chi2");
    near(r.chi2_p, 0.9147000302374539, 1e-10, "p");
    assert.equal(chiSquareMerged([0, 0], [0.5, 0.5]), null);
  });
});

describe("W1 against the distribution", () => {
  it("matches quadrature of |F_n − F| (scipy quad)", () => {
    const x = [-1.2, -0.3, 0.0, 0.4, 0.4, 0.9, 1.7, 2.5];
    near(w1Distribution(x, N01.cdf, N01.quantile, true), 0.554506115449919, 1e-8, "normal");
    const t = continuousFunctions({ family: "student_t", params: { df: 3 } });
    near(w1Distribution(x, t.cdf, t.quantile, t.hasMean), 0.6883521144295767, 1e-8, "t(3)");
    const g = continuousFunctions({ family: "gamma", params: { shape: 2, scale: 2 } });
    near(w1Distribution([0.5, 1.5, 2.5, 4.0, 9.0], g.cdf, g.quantile, true), 1.0023092920791763, 1e-8, "gamma");
  });
  it("is null where E|X| is infinite", () => {
    const c = continuousFunctions({ family: "cauchy", params: { x0: 0, gamma: 1 } });
    assert.equal(c.hasMean, false);
    assert.equal(w1Distribution([0, 1], c.cdf, c.quantile, c.hasMean), null);
  });
});

describe("computeMetrics on a continuous target", () => {
  const target = parseDist("normal(0,1)");
  const uniformQ = target.probs;
  it("adds ks, ks_p, w1_dist from the values; free-form numbers count in their bins; unparsed recorded", () => {
    const written = ["-1.2", "-0.3", "0.0", "0.4", "0.4", "0.9", "1.7", "2.5"];
    const runs: Run[] = [
      {
        seed: 1,
        steps: [
          ...written.map((s, t) => ({ t, ptoken: uniformQ, leak: 0, sample: s })),
          { t: 8, ptoken: uniformQ, leak: 0, sample: null, raw: "lots" },
        ],
      },
    ];
    const m = computeMetrics(target, runs);
    near(m.ks, 0.2804217416103242, 1e-12, "ks");
    near(m.w1_dist, 0.554506115449919, 1e-8, "w1_dist");
    assert.equal(m.n_values, 8);
    assert.equal(m.unparsed, 1);
    // The same values written free-form (batch keeps "0.37" as raw next to its bin "0.4") give the same binned
    // statistics as the rounded answers, and KS reads the numbers as written.
    const bins = ["-1.2", "-0.3", "0.0", "0.4", "0.4", "0.9", "1.7", "2.5"];
    const free: Run[] = [{ seed: 1, steps: ["-1.23", "-0.3", "-0.01", "0.37", "4e-1", "0.9", "1.7", "2.5"].map((raw, t) => ({ t, ptoken: uniformQ, leak: 0, sample: bins[t]!, raw })) }];
    const f = computeMetrics(target, free);
    assert.equal(f.sample_tvd, m.sample_tvd);
    assert.equal(f.unparsed, 0);
    assert.notEqual(f.ks, m.ks);
    assert.equal(f.n_values, 8);
  });
  it("the peers' recipe is opt-in and seeded", () => {
    const runs: Run[] = [{ seed: 1, steps: ["-1.2", "0.4", "0.9"].map((s, t) => ({ t, ptoken: uniformQ, leak: 0, sample: s })) }];
    assert.equal(computeMetrics(target, runs).peers, undefined);
    const a = computeMetrics(target, runs, { peers: { seed: 3, reference: 200 } }).peers!;
    const b = computeMetrics(target, runs, { peers: { seed: 3, reference: 200 } }).peers!;
    assert.deepEqual(a, b);
    assert.equal(a.n_ref, 200);
    assert.ok(a.ks2! > 0 && a.ks2_p! > 0 && a.w1_ref! > 0);
  });
  it("leaves a discrete target's metrics as they were", () => {
    const t = parseDist("{1:0.5,2:0.5}");
    const m = computeMetrics(t, [{ seed: 1, steps: [{ t: 0, ptoken: [0.5, 0.5], leak: 0, sample: "1" }] }]);
    assert.equal(m.ks, undefined);
    assert.equal(m.n_values, undefined);
  });
});
