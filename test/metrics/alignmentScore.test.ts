// alignment_score: 1 − atvd under the name that says what it is; e_score stays its alias (written, shown, read).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { alignmentScore } from "../../src/metrics/alignmentScore.ts";
import { computeMetrics, metricByName, metricValue, METRICS } from "../../src/metrics/index.ts";
import { parseDist } from "../../src/distributions/index.ts";
import type { Metrics, Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";

test("alignment_score = 1 − atvd = e_score, appended after the older keys", () => {
  const target = parseDist("{1:0.5,2:0.5}");
  // atvd: run 0 = (.4 + .4)/2 = .4, run 1 = (0 + .1)/2 = .05 → .225; alignment_score = .775
  const runs = [
    { seed: 0, steps: [{ t: 0, ptoken: [0.9, 0.1], leak: 0, sample: "1" }, { t: 1, ptoken: [0.1, 0.9], leak: 0, sample: "2" }] },
    { seed: 1, steps: [{ t: 0, ptoken: [0.5, 0.5], leak: 0, sample: "1" }, { t: 1, ptoken: [0.4, 0.6], leak: 0, sample: "2" }] },
  ];
  const m = computeMetrics(target, runs) as Metrics & { alignment_score?: number };
  assert.ok(Math.abs(m.alignment_score! - 0.775) < 1e-12);
  assert.equal(m.alignment_score, m.e_score);
  const keys = Object.keys(m);
  assert.ok(keys.indexOf("alignment_score") > keys.indexOf("hamming"));
  assert.equal(metricByName("e_score")?.aliasOf, "alignment_score");
  assert.deepEqual(alignmentScore.formerly, ["e_score"]);
  assert.equal(METRICS.filter((d) => d.aliasOf).length, 1);
});

test("a result written before the name existed is read under its former key", () => {
  const dir = new URL("../fixtures/results-v1/dir/runs/", import.meta.url);
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    const r = JSON.parse(readFileSync(new URL(f, dir), "utf8")) as Result;
    if (!r.metrics) continue;
    assert.equal(metricValue(r.metrics, "alignment_score"), undefined, f);
    assert.equal(metricValue(r.metrics, alignmentScore), r.metrics.e_score, f);
  }
});

test("run's summary shows e_score as the alias; --json and the runs export carry both keys", async () => {
  const args = ["--model", "sim:d", "--target", "extreme", "--steps", "5", "--runs", "2", "--no-save"];
  const text = await ptalign(["run", ...args]);
  assert.match(text.stdout, /\ne_score\s+\d\.\d{3}\s+1 - atvd \(alias of alignment_score; not the paper's e-score\)\n/);
  const json = JSON.parse((await ptalign(["run", ...args, "--json"])).stdout) as Result & { metrics: { alignment_score: number } };
  assert.equal(json.metrics.alignment_score, json.metrics.e_score);
});
