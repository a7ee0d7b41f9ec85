import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { METRIC_NAMES } from "../../src/classify/bootstrap.ts";
import { bootstrapMetrics, exportMetrics, htmlMetrics, METRICS, metricByName, summaryMetrics } from "../../src/metrics/index.ts";
import { summarise } from "../../src/run.ts";
import type { Result } from "../../src/types.ts";

const FIXTURE = new URL("../fixtures/results-v1/dir/runs/", import.meta.url);
const fixtureRuns = (): [string, Result][] =>
  readdirSync(FIXTURE).filter((f) => f.endsWith(".json")).map((f) => [f, JSON.parse(readFileSync(new URL(f, FIXTURE), "utf8")) as Result]);

test("the registry: unique names, and the orders the outputs had before it existed", () => {
  const names = METRICS.map((m) => m.name);
  assert.equal(new Set(names).size, names.length);
  // JSON key order (metrics added later are appended)
  assert.deepEqual(names.slice(0, 16), ["atvd", "marginal_tvd", "sample_tvd", "volatility", "concentration", "entropy_ratio", "e_score", "leak", "chi2", "chi2_p", "w1", "unparsed", "n_values", "ks", "ks_p", "w1_dist"]);
  const old = (list: string[], keep: readonly string[]) => list.filter((n) => keep.includes(n));
  assert.deepEqual(old(exportMetrics().map((m) => m.name), names.slice(0, 16)), ["atvd", "marginal_tvd", "sample_tvd", "volatility", "concentration", "entropy_ratio", "e_score", "leak", "chi2", "chi2_p", "w1"]);
  assert.deepEqual(old(summaryMetrics().map((m) => m.name), names.slice(0, 16)), ["atvd", "marginal_tvd", "volatility", "concentration", "entropy_ratio", "e_score", "sample_tvd", "chi2_p", "w1", "leak", "unparsed", "ks_p", "w1_dist"]);
  assert.deepEqual(old(htmlMetrics().map((m) => m.name), names.slice(0, 16)), ["atvd", "volatility", "concentration", "marginal_tvd", "e_score", "sample_tvd", "chi2_p", "leak"]);
  // the bootstrap gives intervals to exactly the metrics the verdict rules read, in the order the reasons list them
  assert.deepEqual(bootstrapMetrics().map((m) => m.name).sort(), [...METRIC_NAMES].sort());
  assert.deepEqual(METRIC_NAMES, ["atvd", "volatility", "concentration", "marginal_tvd"]);
  assert.equal(metricByName("atvd")?.direction, "lower");
  assert.equal(metricByName("no_such_metric"), undefined);
  for (const m of METRICS) assert.ok(m.meaning.length > 0 && !m.meaning.includes("\n"), `${m.name}: one-line meaning`);
});

test("every result of the schema-1 fixture gets the same metrics (key order included) and verdict from the registry", () => {
  const runs = fixtureRuns();
  assert.ok(runs.length >= 10);
  for (const [file, r] of runs) {
    if (!r.metrics) continue;
    // every key a stored result has is a registered metric (peers: the opt-in peers' tests object)
    for (const k of Object.keys(r.metrics)) assert.ok(k === "peers" || metricByName(k), `${file}: ${k} is registered`);
    const settings = r.settings ?? {};
    const again = summarise(r.model, r.protocol, r.target, r.runs, settings, undefined, typeof settings.seed === "number" ? settings.seed : 0);
    const metrics: Record<string, unknown> = { ...again.metrics };
    // metrics registered after the fixture was written are new keys: compare the others, in order
    for (const k of Object.keys(metrics)) if (!(k in r.metrics)) delete metrics[k];
    assert.equal(JSON.stringify(metrics), JSON.stringify(r.metrics), file);
    assert.equal(JSON.stringify(again.verdict), JSON.stringify(r.verdict), file);
  }
});

test("a continuous target with the peers' tests: the value tests' keys, then peers last", async () => {
  const { parseSimSpec } = await import("../../src/backends/sim.ts");
  const { simulateRuns } = await import("../../src/protocols/simulate.ts");
  const { parseDist } = await import("../../src/distributions/index.ts");
  const { computeMetrics } = await import("../../src/metrics/index.ts");
  const target = parseDist("normal(0,1)");
  const keys = Object.keys(computeMetrics(target, simulateRuns(parseSimSpec("sim:e"), target, { steps: 5, runs: 2, seed: 3 }), { peers: { seed: 3 } }));
  assert.deepEqual(keys.slice(12, 16), ["n_values", "ks", "ks_p", "w1_dist"]);
  assert.equal(keys.at(-1), "peers");
  const discrete = Object.keys(computeMetrics(parseDist("extreme"), simulateRuns(parseSimSpec("sim:e"), parseDist("extreme"), { steps: 5, runs: 2, seed: 3 })));
  assert.ok(!discrete.includes("ks") && !discrete.includes("n_values") && !discrete.includes("peers"), "continuous-only keys are absent for a discrete target");
});
