import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

/*
 * Hand-worked case. Target p = {1: .5, 2: .5}; two runs of three steps:
 *   run 0: q = [.9,.1], [.1,.9], [.9,.1]   samples 1, 2, 1
 *   run 1: q = [.5,.5], [.5,.5], [.4,.6]   samples 1, 1, 2
 * run 0: TV(q_t,p) = .4,.4,.4 → atvd .4;  q̄ = [.6333,.3667] → marginal .1333;  TV(q_t,q_t-1) = .8,.8 → volatility .8;
 *        concentration .9;  H([.9,.1]) = .9·ln(1/.9) + .1·ln(10) = .3250830 → entropy_ratio .3250830/ln 2 = .4689956
 * run 1: TV = 0,0,.1 → atvd .0333;  q̄ = [.4667,.5333] → marginal .0333;  volatility (0 + .1)/2 = .05;
 *        concentration (.5+.5+.6)/3 = .5333;  entropy_ratio (1 + 1 + H([.4,.6])/ln 2 = .9709503)/3 = .9903169
 * means over runs: atvd .2166667, marginal .0833333, volatility .425, concentration .7166667, entropy_ratio .7296562,
 *                  e_score 1 − .2166667 = .7833333, leak 0
 * samples pooled: "1" ×4, "2" ×2 of 6 → p̂ = [2/3, 1/3] → sample_tvd 1/6;  chi2 = (4−3)²/3 + (2−3)²/3 = 2/3, df 1,
 *                  chi2_p = P(χ²₁ > 2/3) = erfc(√(1/3)) = .4142162;  w1 = |F̂(1) − F(1)| × (2 − 1) = |2/3 − 1/2| = 1/6
 */
const expected = {
  atvd: 0.2166667,
  marginal_tvd: 0.0833333,
  volatility: 0.425,
  concentration: 0.7166667,
  entropy_ratio: 0.7296562,
  e_score: 0.7833333,
  leak: 0,
  sample_tvd: 1 / 6,
  chi2: 2 / 3,
  chi2_p: 0.4142162,
  w1: 1 / 6,
};

describe("ptalign metrics", () => {
  it("computes every metric from recorded distributions as worked by hand", async () => {
    const dir = await tempDir();
    const ptoken = join(dir, "steps.json");
    const samples = join(dir, "samples.json");
    await writeFile(ptoken, JSON.stringify([[[0.9, 0.1], [0.1, 0.9], [0.9, 0.1]], [[0.5, 0.5], [0.5, 0.5], [0.4, 0.6]]]));
    await writeFile(samples, JSON.stringify([["1", "2", "1"], [1, 1, 2]]));
    const res = await ptalign(["metrics", "--target", "{1:0.5,2:0.5}", "--ptoken", ptoken, "--samples", samples, "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    for (const [name, value] of Object.entries(expected)) {
      const got = result.metrics[name as keyof typeof expected];
      assert.ok(got !== null && Math.abs(got - value) < 1e-6, `${name}: ${got} vs ${value}`);
    }
    assert.ok(["D", "E", "collapsed", "mixed", "uncertain"].includes(result.verdict.type));
  });

  it("rejects rows of the wrong length or sum, and malformed JSON, with exit 2", async () => {
    const dir = await tempDir();
    const cases: [unknown, RegExp][] = [
      [[[[0.5, 0.3]]], /run 0 step 0 sums to 0\.8, expected 1 \(use --normalize\)/],
      [[[[0.5, 0.25, 0.25]]], /run 0 step 0 has 3 probabilities, the target has 2 answers/],
      [[[[-0.5, 1.5]]], /negative or non-finite/],
      [[], /no runs/],
      [{ steps: 1 }, /expected an array of runs/],
    ];
    for (const [content, pattern] of cases) {
      const file = join(dir, "bad.json");
      await writeFile(file, JSON.stringify(content));
      const res = await ptalign(["metrics", "--target", "{1:0.5,2:0.5}", "--ptoken", file]);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, pattern);
      assert.equal(res.stderr.trim().split("\n").length, 1);
    }
    const broken = join(dir, "broken.json");
    await writeFile(broken, "[[[0.5, 0.5]]");
    const res = await ptalign(["metrics", "--target", "{1:0.5,2:0.5}", "--ptoken", broken]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /is not valid JSON/);
  });
});
