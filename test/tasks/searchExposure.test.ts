import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedExposureMetrics, ndcgAt, normalisedExposure, rankExposures, rbpGroupExposure, stopProbability, targetExposure, targetStep } from "../../src/tasks/search/exposure.ts";
import { exposureOf } from "../../src/tasks/search/metrics.ts";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

describe("expected exposure (Diaz et al. 2020)", () => {
  it("ε* under RBP is the closed form and the mean exposure of the grade's ranks", () => {
    const grades = [0, 2, 1, 2, 0, 0];
    const g = 0.7;
    const t = targetExposure(grades, { kind: "rbp", patience: g });
    // grade 2: m = 2, b = 0 → ranks 1–2; grade 1: m = 1, b = 2 → rank 3; grade 0: m = 3, b = 3 → ranks 4–6.
    close(t[1]!, (1 + g) / 2);
    close(t[2]!, g ** 2);
    close(t[0]!, (g ** 3 + g ** 4 + g ** 5) / 3);
    close(t[0]!, rbpGroupExposure(3, 3, g));
    close(t.reduce((a, b) => a + b, 0), (1 - g ** 6) / (1 - g), 1e-12);
  });

  it("cascade: rank k's exposure γ^(k−1) Π (1 − φ(grade above)), φ = (2^g − 1)/2^gmax", () => {
    const b = { kind: "cascade" as const, patience: 0.5 };
    close(stopProbability(2, 2), 0.75);
    const e = rankExposures([2, 1, 0], b, 2);
    assert.deepEqual(e, [1, 0.5 * 0.25, 0.5 * 0.25 * 0.5 * 0.75]);
    // ε* with a tie: the two grade-1 documents share ranks 2 and 3.
    const t = targetExposure([1, 2, 1], b);
    const r = rankExposures([2, 1, 1], b, 2);
    close(t[1]!, r[0]!);
    close(t[0]!, (r[1]! + r[2]!) / 2);
    close(t[2]!, t[0]!);
  });

  it("EE-L = EE-D − 2 EE-R + ‖ε*‖²; normalised values are separate", () => {
    const eps = [0.2, 0.9, 0.4];
    const target = [0.25, 1, 0.25];
    const m = expectedExposureMetrics(eps, target);
    close(m.ee_l, 0.05 ** 2 + 0.1 ** 2 + 0.15 ** 2);
    close(m.ee_d, 0.04 + 0.81 + 0.16);
    close(m.ee_r, 0.05 + 0.9 + 0.1);
    close(m.ee_l, m.ee_d - 2 * m.ee_r + 0.0625 + 1 + 0.0625);
    const n = normalisedExposure(m, target, [1, 2, 1], { kind: "rbp", patience: 0.5 });
    close(n.ee_r, m.ee_r / (0.0625 + 1 + 0.0625));
    close(n.ee_d, m.ee_d / (1 + 0.25 + 0.0625));
  });

  it("the target step is uniform over the best remaining grade; nDCG uses linear gain (trec_eval)", () => {
    assert.deepEqual(targetStep([0, 2, 1, 2], [0, 1, 2, 3]), [0, 0.5, 0, 0.5]);
    assert.deepEqual(targetStep([0, 2, 1, 2], [0, 2]), [0, 1]);
    close(ndcgAt([1, 2], [2, 1], 2)!, (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)));
    assert.equal(ndcgAt([0, 0], [0, 0], 2), null);
  });

  it("ε from the recorded rankings: per-rank P_token, the last rank conditioned on the rank before", () => {
    // One ranking of 3 documents: rank 1 P = (.5, .3, .2), drew 0; rank 2 over {1, 2} P = (.6, .4), drew 1.
    const steps = [{ remaining: [0, 1, 2], ptoken: [0.5, 0.3, 0.2], leak: 0, pick: 0 }, { remaining: [1, 2], ptoken: [0.6, 0.4], leak: 0.5, pick: 1 }];
    const { rb, sampled } = exposureOf(3, [2, 1, 0], [steps], { kind: "rbp", patience: 0.5 });
    close(rb[0]!, 0.5);
    close(rb[1]!, 0.3 + 0.5 * 0.6 + 0.25 * 0.4);
    close(rb[2]!, 0.2 + 0.5 * 0.4 + 0.25 * 0.6);
    assert.deepEqual(sampled, [1, 0.5, 0.25]);
  });
});
