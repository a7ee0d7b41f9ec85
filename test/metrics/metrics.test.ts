import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import {
  CHI2_INFINITE,
  chi2Survival,
  computeMetrics,
  entropy,
  kl,
  numericSupport,
  runMetrics,
  sampleStats,
  tv,
  wasserstein1,
} from "../../src/metrics/index.ts";
import type { Run, Step, Target } from "../../src/types.ts";

const near = (actual: number | null, expected: number, tol = 1e-12): void => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
};
/** Relative closeness, for p-values spanning many orders of magnitude. */
const nearRel = (actual: number, expected: number, rel: number): void => {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${actual} vs ${expected}`);
};
const steps = (qs: number[][], leaks?: number[], samples?: (string | null)[]): Step[] =>
  qs.map((ptoken, t) => ({ t, ptoken, leak: leaks?.[t] ?? 0, sample: samples?.[t] ?? null }));

const HALF: Target = { support: ["a", "b"], probs: [0.5, 0.5] };
const EXTREME: Target = { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] };

function inputError(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe("basic measures", () => {
  it("tv", () => {
    // ½(|1−.5| + |0−.5|) = .5
    assert.equal(tv([1, 0], [0.5, 0.5]), 0.5);
    assert.equal(tv([1, 0], [0, 1]), 1);
    // ½(.1+.3+.1+.1) = .3
    near(tv([0, 1, 0, 0], EXTREME.probs), 0.3);
    assert.throws(() => tv([1], [0.5, 0.5]), RangeError);
  });

  it("entropy in nats with 0·ln0 = 0", () => {
    assert.ok(Object.is(entropy([1, 0]), 0));
    near(entropy([0.5, 0.5]), Math.LN2);
    near(entropy([0.25, 0.25, 0.25, 0.25]), Math.log(4));
    // −(3·0.1 ln 0.1 + 0.7 ln 0.7) = 3·0.2302585 + 0.2496725 = 0.9404480
    near(entropy(EXTREME.probs), 0.9404479886553263);
  });

  it("kl", () => {
    // .5 ln(.5/.25) + .5 ln(.5/.75) = .5·0.6931472 − .5·0.4054651 = 0.1438410
    near(kl([0.5, 0.5], [0.25, 0.75]), 0.14384103622589042);
    assert.equal(kl([0.5, 0.5], [0.5, 0.5]), 0);
    assert.equal(kl([0.5, 0.5], [1, 0]), Infinity); // q_2 = 0 < p_2
    near(kl([1, 0], [0.5, 0.5]), Math.LN2); // p_2 = 0 term is 0
  });
});

describe("runMetrics (one run)", () => {
  it("two opposite point masses on a fair coin", () => {
    // q0 = [1,0], q1 = [0,1], p = [.5,.5]
    const m = runMetrics(HALF, [
      { ptoken: [1, 0], leak: 0.02 },
      { ptoken: [0, 1], leak: 0.04 },
    ]);
    assert.equal(m.atvd, 0.5); // TV(q_t, p) = ½(.5 + .5) = .5 at both steps
    assert.equal(m.marginal_tvd, 0); // q̄ = [.5,.5] = p
    assert.equal(m.volatility, 1); // TV(q1, q0) = ½(1 + 1) = 1, one pair
    assert.equal(m.concentration, 1); // max q_t = 1 at both steps
    assert.equal(m.entropy_ratio, 0); // H(q_t) = 0, H(p) = ln 2
    assert.equal(m.e_score, 0.5); // 1 − atvd
    near(m.leak, 0.03); // (.02 + .04)/2
  });

  it("three steps on the extreme target", () => {
    // p = [.1,.7,.1,.1]; q0 = p, q1 = [0,1,0,0], q2 = [.25,.25,.25,.25]
    const m = runMetrics(EXTREME, [
      { ptoken: [0.1, 0.7, 0.1, 0.1], leak: 0 },
      { ptoken: [0, 1, 0, 0], leak: 0.1 },
      { ptoken: [0.25, 0.25, 0.25, 0.25], leak: 0.2 },
    ]);
    // TV: 0; ½(.1+.3+.1+.1) = .3; ½(.15+.45+.15+.15) = .45 → atvd = .75/3 = .25
    near(m.atvd, 0.25);
    near(m.e_score, 0.75);
    // q̄ = [.35/3, 1.95/3, .35/3, .35/3] = [.11667, .65, .11667, .11667]
    // TV(q̄, p) = ½(.01667 + .05 + .01667 + .01667) = ½ · .1 = .05
    near(m.marginal_tvd, 0.05);
    // TV(q1,q0) = .3; TV(q2,q1) = ½(.25+.75+.25+.25) = .75 → volatility = 1.05/2 = .525
    near(m.volatility, 0.525);
    // max: .7, 1, .25 → 1.95/3 = .65
    near(m.concentration, 0.65);
    // H(q0) = H(p) = 0.9404480, H(q1) = 0, H(q2) = ln 4 = 1.3862944
    // mean = 2.3267424/3 = 0.7755808; / H(p) = 0.8246929
    near(m.entropy_ratio, 0.8246929044607226);
    near(m.leak, 0.1); // (0 + .1 + .2)/3
  });

  it("one step: volatility 0; point-mass target: entropy_ratio null", () => {
    const one = runMetrics(HALF, [{ ptoken: [0.5, 0.5], leak: 0 }]);
    assert.equal(one.volatility, 0);
    assert.equal(one.entropy_ratio, 1); // H(q) = H(p) = ln 2
    const point: Target = { support: ["a", "b"], probs: [1, 0] };
    const m = runMetrics(point, [{ ptoken: [0.5, 0.5], leak: 0 }]);
    assert.equal(m.entropy_ratio, null); // H(p) = 0
    assert.equal(m.atvd, 0.5);
  });

  it("accepts an all-zero step (all mass leaked) as given", () => {
    // TV([0,0], [.5,.5]) = ½(.5 + .5) = .5; max = 0; H = 0
    const m = runMetrics(HALF, [{ ptoken: [0, 0], leak: 1 }]);
    assert.deepEqual(m, { atvd: 0.5, marginal_tvd: 0.5, volatility: 0, concentration: 0, entropy_ratio: 0, e_score: 0.5, leak: 1 });
  });

  it("rejects malformed steps with one-line messages", () => {
    inputError(() => runMetrics(HALF, []), "run has no steps; metrics need at least one step");
    inputError(
      () => runMetrics(HALF, [{ ptoken: [1, 0, 0], leak: 0 }]),
      "step t=0 has 3 probabilities, expected 2 (one per answer of the target, in support order)",
    );
    inputError(
      () => runMetrics(HALF, [{ ptoken: [0.5, 0.5], leak: 0 }, { ptoken: [1.5, -0.5], leak: 0 }]),
      'step t=1: probability of "b" is -0.5; P_token values must be finite and ≥ 0',
    );
    inputError(
      () => runMetrics(HALF, [{ ptoken: [NaN, 1], leak: 0 }]),
      'step t=0: probability of "a" is NaN; P_token values must be finite and ≥ 0',
    );
    inputError(
      () => runMetrics(HALF, [{ ptoken: [0.5, 0.4], leak: 0 }]),
      "step t=0: P_token sums to 0.9, expected 1; renormalise it over the support",
    );
    inputError(() => runMetrics(HALF, [{ ptoken: [0.5, 0.5], leak: -0.1 }]), "step t=0: leak is -0.1; leak is a probability mass in [0, 1]");
  });
});

describe("chi2Survival", () => {
  it("matches chi-square tables", () => {
    nearRel(chi2Survival(3.2, 3), 0.3618, 1e-4); // table: P(χ²₃ ≥ 3.2) ≈ 0.3618
    nearRel(chi2Survival(3.841459, 1), 0.05, 1e-6); // 95% critical value, df 1
    nearRel(chi2Survival(5.991465, 2), 0.05, 1e-6); // 95% critical value, df 2
    nearRel(chi2Survival(7.814728, 3), 0.05, 1e-6); // 95% critical value, df 3
    // df = 2: P(χ²₂ ≥ x) = e^(−x/2) exactly
    nearRel(chi2Survival(1.5, 2), Math.exp(-0.75), 1e-9);
    nearRel(chi2Survival(40, 2), Math.exp(-20), 1e-9);
    assert.equal(chi2Survival(0, 3), 1);
    assert.equal(chi2Survival(Infinity, 3), 0);
  });

  it("keeps precision in the far tail where 1 − cdf underflows", () => {
    // df = 4: P(χ²₄ ≥ x) = e^(−x/2)(1 + x/2) → x = 100: e^−50 · 51 = 9.8366e-21
    nearRel(chi2Survival(100, 4), Math.exp(-50) * 51, 1e-9);
    // df = 2, x = 1000: e^−500 = 7.1245e-218
    nearRel(chi2Survival(1000, 2), Math.exp(-500), 1e-8);
  });
});

describe("sampleStats", () => {
  const U4: Target = { support: ["1", "2", "3", "4"], probs: [0.25, 0.25, 0.25, 0.25] };
  const samplesFrom = (support: string[], counts: number[]): string[] =>
    support.flatMap((s, i) => new Array<string>(counts[i]!).fill(s));

  it("chi2 = 3.2 with df 3 on a uniform target", () => {
    // counts [14,6,10,10], n = 40, E = 10 each: (16 + 16 + 0 + 0)/10 = 3.2; df = 4 − 1 = 3; table p ≈ 0.3618
    const s = sampleStats(U4, samplesFrom(U4.support, [14, 6, 10, 10]));
    assert.deepEqual(s.counts, [14, 6, 10, 10]);
    assert.equal(s.n, 40);
    near(s.chi2, 3.2);
    nearRel(s.chi2_p!, 0.3618, 1e-4);
    // p̂ = [.35,.15,.25,.25]: TV = ½(.1 + .1) = .1
    near(s.sample_tvd, 0.1);
    // CDFs at 1,2,3: p̂ .35,.5,.75 vs p .25,.5,.75 → |.1|·1 + 0 + 0 = .1
    near(s.w1, 0.1);
  });

  it("w1 on a numeric support with unequal gaps, in any order", () => {
    // support 0, 2, 5 with p = [.5,.25,.25]; counts [1,2,1], n = 4 → p̂ = [.25,.5,.25]
    const t: Target = { support: ["0", "2", "5"], probs: [0.5, 0.25, 0.25] };
    const s = sampleStats(t, ["0", "2", "2", "5"]);
    // CDF at 0: .25 vs .5 → .25 × gap 2 = .5; at 2: .75 vs .75 → 0 × gap 3 → w1 = .5
    near(s.w1, 0.5);
    // TV = ½(.25 + .25 + 0) = .25
    near(s.sample_tvd, 0.25);
    // E = [2,1,1]: (1−2)²/2 + (2−1)²/1 + 0 = 1.5; df 2 → p = e^(−.75) = 0.4723666
    near(s.chi2, 1.5);
    nearRel(s.chi2_p!, Math.exp(-0.75), 1e-9);
    // The same target listed 5, 0, 2 gives the same w1.
    const shuffled: Target = { support: ["5", "0", "2"], probs: [0.25, 0.5, 0.25] };
    near(sampleStats(shuffled, ["0", "2", "2", "5"]).w1, 0.5);
    // Units follow the support: scaling the values by 10 scales w1 by 10.
    near(wasserstein1([0, 20, 50], [0.25, 0.5, 0.25], [0.5, 0.25, 0.25]), 5);
  });

  it("w1 is null on a non-numeric support", () => {
    assert.equal(sampleStats(HALF, ["a", "b"]).w1, null);
    assert.equal(numericSupport(["1", "x"]), null);
    assert.deepEqual(numericSupport(["-1", " 2.5 ", "1e2"]), [-1, 2.5, 100]);
    assert.equal(numericSupport(["0x10"]), null);
  });

  it("ignores null samples", () => {
    const s = sampleStats(HALF, ["a", null, "b", null]);
    assert.deepEqual(s.counts, [1, 1]);
    assert.equal(s.n, 2);
    assert.equal(s.sample_tvd, 0);
    assert.equal(s.chi2, 0);
    assert.equal(s.chi2_p, 1);
  });

  it("answers with p_i = 0 are left out of chi2 unless sampled", () => {
    const t: Target = { support: ["a", "b", "c"], probs: [0.5, 0.5, 0] };
    // E = [1,1] on a, b; c excluded; df = 2 − 1 = 1; chi2 = 0 → p = 1
    const ok = sampleStats(t, ["a", "b"]);
    assert.equal(ok.chi2, 0);
    assert.equal(ok.chi2_p, 1);
    // counts [3,1,0], n = 4, E = [2,2]: (1 + 1)/2 = 1; df 1 → p = P(χ²₁ ≥ 1) = 0.3173105
    nearRel(sampleStats(t, ["a", "a", "a", "b"]).chi2_p!, 0.31731050786291115, 1e-9);
    // A sample on c (p = 0) is impossible under the target.
    const bad = sampleStats(t, ["a", "c"]);
    assert.equal(bad.chi2, CHI2_INFINITE);
    assert.equal(bad.chi2_p, 0);
    // p̂ = [.5,0,.5]: TV = ½(0 + .5 + .5) = .5
    assert.equal(bad.sample_tvd, 0.5);
    // and it survives JSON
    assert.equal(JSON.parse(JSON.stringify(bad)).chi2, CHI2_INFINITE);
  });

  it("df = 0 (point-mass target) gives chi2_p = 1", () => {
    const t: Target = { support: ["a", "b"], probs: [1, 0] };
    const s = sampleStats(t, ["a", "a"]);
    assert.equal(s.chi2, 0); // (2 − 2)²/2
    assert.equal(s.chi2_p, 1);
  });

  it("no samples: the sample statistics are null, not a perfect fit", () => {
    assert.deepEqual(sampleStats(U4, [null, null]), { counts: [0, 0, 0, 0], n: 0, sample_tvd: null, chi2: null, chi2_p: null, w1: null });
    assert.deepEqual(sampleStats(HALF, []), { counts: [0, 0], n: 0, sample_tvd: null, chi2: null, chi2_p: null, w1: null });
  });

  it("a sample outside the support is an error", () => {
    inputError(() => sampleStats(HALF, ["a", "z"]), 'sample "z" is not an answer of the target; record answers outside the support as null');
  });
});

describe("computeMetrics (runs)", () => {
  // Run A: two steps q = [1,0], samples a, a, leaks .1, .3. Run B: one step q = [.5,.5], sample b, leak .6.
  const runs: Run[] = [
    { seed: 1, steps: steps([[1, 0], [1, 0]], [0.1, 0.3], ["a", "a"]) },
    { seed: 2, steps: steps([[0.5, 0.5]], [0.6], ["b"]) },
  ];

  it("averages per-run values and pools samples", () => {
    const m = computeMetrics(HALF, runs);
    // atvd: A = .5, B = 0 → .25 (pooling the 3 steps would give 1/3)
    near(m.atvd, 0.25);
    near(m.e_score, 0.75);
    // marginal: A q̄ = [1,0] → .5; B → 0; mean .25 (the pooled q̄ = [5/6,1/6] would give 1/3)
    near(m.marginal_tvd, 0.25);
    // volatility: A TV([1,0],[1,0]) = 0; B one step → 0
    assert.equal(m.volatility, 0);
    // concentration: A 1, B .5 → .75
    near(m.concentration, 0.75);
    // entropy_ratio: A 0/ln2 = 0, B ln2/ln2 = 1 → .5
    near(m.entropy_ratio, 0.5);
    // leak: A (.1+.3)/2 = .2, B .6 → .4 (pooled over steps would be 1/3)
    near(m.leak, 0.4);
    // samples pooled: counts [2,1], n = 3, p̂ = [2/3,1/3]: TV = ½(1/6 + 1/6) = 1/6 (per-run mean would be .5)
    near(m.sample_tvd, 1 / 6);
    // E = [1.5,1.5]: (.25 + .25)/1.5 = 1/3; df 1 → P(χ²₁ ≥ 1/3) = 2(1 − Φ(0.57735)) = 0.5637029
    near(m.chi2, 1 / 3);
    nearRel(m.chi2_p!, 0.5637028616507731, 1e-9);
    assert.equal(m.w1, null); // answers "a", "b" are not numbers
  });

  it("entropy_ratio is null for a point-mass target", () => {
    const t: Target = { support: ["a", "b"], probs: [1, 0] };
    assert.equal(computeMetrics(t, runs).entropy_ratio, null);
  });

  it("rejects no runs and names the bad run", () => {
    inputError(() => computeMetrics(HALF, []), "no runs; metrics need at least one run with at least one step");
    inputError(() => computeMetrics(HALF, [runs[0]!, { seed: 7, steps: [] }]), "run #2 (seed 7): run has no steps; metrics need at least one step");
    inputError(
      () => computeMetrics(HALF, [{ seed: 3, steps: steps([[0.2, 0.2]]) }]),
      "run #1 (seed 3): step t=0: P_token sums to 0.4, expected 1; renormalise it over the support",
    );
  });
});

describe("entropyBoundsTopK", () => {
  it("bounds the entropy of a distribution known only by its top k", async () => {
    const { entropyBoundsTopK } = await import("../../src/metrics/index.ts");
    // Shown .4, .3, .1: H_visible = .4 ln 2.5 + .3 ln(1/.3) + .1 ln 10 = .957967; hidden m = .2, each ≤ .1.
    // Lowest: two hidden tokens of .1 → + 2 × .1 ln 10 = 1.418484. Highest with a 10-token vocabulary: .2 spread
    // over the 7 unseen → + .2 ln(7/.2) = 1.669037.
    const [lo, hi] = entropyBoundsTopK([0.4, 0.3, 0.1], 10);
    assert.ok(Math.abs(lo - 1.418484) < 1e-6 && Math.abs(hi! - 1.669037) < 1e-6, `${lo} ${hi}`);
    assert.equal(entropyBoundsTopK([0.4, 0.3, 0.1])[1], null);
    // Nothing hidden: both bounds are the entropy itself.
    assert.deepEqual(entropyBoundsTopK([0.5, 0.5]), [Math.log(2), Math.log(2)]);
  });
});
