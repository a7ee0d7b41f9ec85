// Issue 20, item 8 (the rest): chi2_p printed from tiny expected counts with no caveat (Cochran's rule), chi2 printed
// as 1.7976931348623157e+308, and targets shown rounded ({a:0.00001,b:0.99999} as {a:0,b:1}) in ls/analyze/advise/report.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { chi2Meaning, cochranHolds } from "../../src/metrics/index.ts";
import { expectedCells } from "../../src/metrics/samples.ts";
import { probText } from "../../src/distributions/index.ts";
import { targetLabel } from "../../src/store/read.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("chi2_p carries Cochran's caveat", () => {
  it("expected counts: smallest and share below 5; the rule (none < 1, at most 20% < 5)", () => {
    assert.deepEqual(expectedCells(40, new Array(50_000).fill(1 / 50_000)), { min: 0.0008, small: 1 });
    assert.deepEqual(expectedCells(100, [0.5, 0.3, 0.2, 0]), { min: 20, small: 0 });
    assert.equal(expectedCells(0, [0.5, 0.5]), null);
    assert.equal(cochranHolds({ chi2: 1, chi2_min_expected: 1, chi2_small_cells: 0.2 }), true);
    assert.equal(cochranHolds({ chi2: 1, chi2_min_expected: 0.99, chi2_small_cells: 0 }), false);
    assert.equal(cochranHolds({ chi2: 1, chi2_min_expected: 2, chi2_small_cells: 0.21 }), false);
    assert.equal(cochranHolds({ chi2: 1 }), undefined); // stored before these metrics: no caveat invented
    assert.equal(chi2Meaning({ chi2: 3.5 }), "Pearson chi2 = 3.50");
  });

  it("50,000 answers and 40 samples: the summary says p is unreliable; the JSON has the two new keys, chi2_p unchanged", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "t.csv"), "answer,value\n" + Array.from({ length: 50_000 }, (_, i) => `a${i},1`).join("\n"));
    await writeFile(join(dir, "s.json"), JSON.stringify([Array.from({ length: 40 }, (_, i) => `a${i}`)]));
    const r = await ptalign(["metrics", "--target-file", join(dir, "t.csv"), "--samples", join(dir, "s.json")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /chi2_p\s+0\.551\s+Pearson chi2 = 49960\.00; p unreliable: expected counts too small \(smallest 8\.0e-4, 100% of cells below 5; Cochran's rule wants none below 1 and at most 20% below 5\)/);
    const j = await ptalign(["metrics", "--target-file", join(dir, "t.csv"), "--samples", join(dir, "s.json"), "--json"]);
    const m = (JSON.parse(j.stdout) as { samples: Record<string, number> }).samples;
    assert.equal(m.chi2_min_expected, 0.0008);
    assert.equal(m.chi2_small_cells, 1);
    assert.ok(Math.abs(m.chi2_p! - 0.5512) < 1e-3);
  });

  it("an impossible answer drawn: chi2 prints as ∞ (JSON keeps the number), p = 0 without the small-count caveat", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "s.json"), JSON.stringify([["a", "b", "c", "a", "b", "c"]]));
    const r = await ptalign(["metrics", "--target", "{a:0.5,b:0.5,c:0}", "--samples", join(dir, "s.json")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pearson chi2 = ∞ \(an answer with p = 0 was drawn, or the statistic overflowed\)\n/);
    assert.doesNotMatch(r.stdout, /1\.79769/);
    const j = JSON.parse((await ptalign(["metrics", "--target", "{a:0.5,b:0.5,c:0}", "--samples", join(dir, "s.json"), "--json"])).stdout) as { samples: Record<string, number> };
    assert.equal(j.samples.chi2, Number.MAX_VALUE);
  });

  it("a run's summary carries the caveat too (sim:e, 20 steps over 10 answers: 2 expected per cell)", async () => {
    const r = await ptalign(["run", "--model", "sim:e", "--target", "uniform(1,10)", "--steps", "20", "--runs", "1", "--no-save"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /chi2_p .*p unreliable: expected counts too small \(smallest 2\.00, 100% of cells below 5/);
  });
});

describe("targets are printed without rounding a probability to 0 or 1", () => {
  it("probText keeps 4 decimals where honest and adds digits where 4 would round to 0 or 1", () => {
    assert.deepEqual([0.5, 0.12345, 0.00001, 0.99999, 1 - 1e-9, 1e-300, 0, 1].map(probText), ["0.5", "0.1235", "0.00001", "0.99999", "0.999999999", "1e-300", "0", "1"]);
    assert.equal(targetLabel({ target: { support: ["a", "b"], probs: [0.00001, 0.99999] } }), "{a:0.00001,b:0.99999}");
  });

  it("ls, analyze, advise and the report show {a:0.00001,b:0.99999}", async () => {
    const dir = await tempDir();
    const run = await ptalign(["run", "--model", "sim:e", "--target", "{a:0.00001,b:0.99999}", "--steps", "3", "--runs", "1", "--out", dir]);
    assert.equal(run.code, 0, run.stderr);
    for (const args of [["ls", dir], ["analyze", dir], ["advise", dir]]) {
      const r = await ptalign(args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, /\{a:0\.00001,b:0\.99999\}/, args.join(" "));
    }
    const out = join(dir, "r.html");
    assert.equal((await ptalign(["report", dir, "--out", out])).code, 0);
    const { readFile } = await import("node:fs/promises");
    assert.match(await readFile(out, "utf8"), /\{a:0\.00001,b:0\.99999\}/);
  });
});
