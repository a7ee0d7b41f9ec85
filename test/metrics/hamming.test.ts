import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSimSpec } from "../../src/backends/sim.ts";
import { simulateRuns } from "../../src/protocols/simulate.ts";
import { summaryText } from "../../src/cli/summary.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { hammingDistance, meanHamming } from "../../src/metrics/hamming.ts";
import { computeMetrics, metricValue } from "../../src/metrics/index.ts";
import { exportLines } from "../../src/report/export.ts";
import type { StoredRun } from "../../src/store/read.ts";
import { summarise } from "../../src/run.ts";
import type { Run, Target } from "../../src/types.ts";

const target: Target = { support: ["1", "2", "3", "4"], probs: [0.25, 0.25, 0.25, 0.25] };
/** A run from its samples ("-" = null: no answer in the support), P_token uniform. */
const run = (samples: string, seed = 0): Run => ({
  seed,
  steps: samples.split(" ").map((s, t) => ({ t, ptoken: [0.25, 0.25, 0.25, 0.25], leak: 0, sample: s === "-" ? null : s })),
});
const close = (a: number | null | undefined, b: number) => assert.ok(typeof a === "number" && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

test("hamming of two runs: share of compared positions that differ (docs/metrics.md worked example)", () => {
  close(hammingDistance(run("1 2 3 4"), run("1 2 4 4")), 1 / 4);
  close(hammingDistance(run("1 2 3 4"), run("1 2 3 4")), 0);
  close(hammingDistance(run("1 2 3 4"), run("4 3 2 1")), 1);
  // null positions are skipped and not counted in the denominator
  close(hammingDistance(run("1 2 3 4"), run("1 - 3 2")), 1 / 3);
  close(hammingDistance(run("1 2 4 4"), run("1 - 3 2")), 2 / 3);
  // different lengths: compared up to the shorter run
  close(hammingDistance(run("1 2 3 4"), run("1 3")), 1 / 2);
  // no position left to compare
  assert.equal(hammingDistance(run("1 2"), run("- -")), null);
  assert.equal(hammingDistance(run("- 2"), run("1 -")), null);
});

test("hamming of a measurement: mean over all pairs of runs, pairs with nothing to compare left out", () => {
  // (1/4 + 1/3 + 2/3) / 3 = 5/12, the worked example of docs/metrics.md
  close(meanHamming([run("1 2 3 4"), run("1 2 4 4"), run("1 - 3 2")]), 5 / 12);
  // the all-null run has no comparable position with anyone: only the pair (A, B) counts
  close(meanHamming([run("1 2 3 4"), run("1 2 4 4"), run("- - - -")]), 1 / 4);
  assert.equal(meanHamming([run("1 2 3 4")]), null, "fewer than 2 runs");
  assert.equal(meanHamming([]), null);
  assert.equal(meanHamming([run("1 2"), run("- -")]), null, "no comparable pair");
});

test("hamming is in the result JSON, the run summary and the runs-level export through the registry", () => {
  const runs = [run("1 2 3 4", 1), run("1 2 4 4", 2), run("1 - 3 2", 3)];
  const m = computeMetrics(target, runs);
  close(metricValue(m, "hamming"), 5 / 12);
  assert.equal(metricValue(computeMetrics(target, [run("1 2 3 4")]), "hamming"), null);
  // the key follows the metrics that were there before it (JSON key order is a contract)
  // (metrics registered after hamming, alignment_score, come after it)
  const keys = Object.keys(m);
  assert.deepEqual(keys.slice(keys.indexOf("hamming") - 1, keys.indexOf("hamming") + 1), ["unparsed", "hamming"]);

  const result = summarise("file:x", "sequential", target, runs, {});
  assert.match(summaryText(result), /^hamming +0\.417 +mean over pairs of runs of the share of steps whose samples differ$/m);
  const lone = summarise("file:x", "sequential", target, [run("1 2 3 4")], {});
  assert.match(summaryText(lone), /^hamming +— +no two runs with samples at the same steps$/m);

  const stored: StoredRun = { ...result, id: "x", status: "done", error: null, created: "2026-12-04", progress: { steps: 12, planned: 12 } };
  const [head, row] = [...exportLines([stored], "csv", "runs")];
  // RFC 4180 fields (the target and support columns are quoted: they hold commas)
  const fields = (line: string) => [...line.trimEnd().matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].map((x) => x[1]!);
  const i = fields(head!).indexOf("hamming");
  assert.equal(fields(head!)[i - 1], "w1", "the hamming column follows the columns that were there before it");
  assert.equal(Number(fields(row!)[i]), metricValue(m, "hamming"));
});

test("sim families: sim:d answers differ across runs far more than sim:collapsed", () => {
  const extreme = parseDist("extreme");
  const h = (spec: string) => metricValue(computeMetrics(extreme, simulateRuns(parseSimSpec(spec), extreme, { steps: 50, runs: 5, seed: 1 })), "hamming")!;
  const d = h("sim:d");
  const collapsed = h("sim:collapsed");
  assert.ok(d > 0.3, `sim:d hamming ${d}`);
  assert.ok(collapsed < 0.2, `sim:collapsed hamming ${collapsed}`);
  assert.ok(d > collapsed + 0.2, `sim:d ${d} vs sim:collapsed ${collapsed}`);
});
