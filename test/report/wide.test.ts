// The report on what broke it or misled (issue 13): wide supports (1,000 / 3,000 / 10,000 answers) that overflowed
// Vega's expression parser, equal targets named two ways, long target texts, P_task labels rounded up, and legends
// for the sample dots and the P_task ticks. Rendered in headless Chromium.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { heatmapSpec, histogramSpec, MAX_ROWS, probLabel, supportRows } from "../../src/report/charts.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { measure } from "../../src/run.ts";
import { parseStudy } from "../../src/study/spec.ts";
import { runStudy } from "../../src/study/run.ts";
import { saveResult, newRunId } from "../../src/store/results.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import type { ProtocolName, Result } from "../../src/types.ts";
import { withPage } from "../support/browser.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

async function simRun(out: string, model: string, dist: string, steps: number): Promise<Result> {
  const target = parseDist(dist);
  const r = await measure({ model, target, protocol: "sequential" as ProtocolName, settings: { steps, runs: 1, temperature: 1, seed: 3, prune: 1e-7 }, template: DEFAULT_TEMPLATE });
  r.id = newRunId(model);
  await saveResult(out, r);
  return r;
}

describe("report: wide supports and rough edges", () => {
  let dir: string;
  let out: string;
  let file: string;
  const wide: Record<number, Result> = {};
  const long = `{${Array.from({ length: 50 }, (_, i) => `answer_number_${i}:0.02`).join(",")}}`;

  before(async () => {
    dir = await tempDir();
    out = join(dir, "results");
    for (const k of [1000, 3000, 10000]) wide[k] = await simRun(out, "sim:e", `uniform(1,${k})`, 3);
    await simRun(out, "sim:d", "{1:0.1,2:0.7,3:0.1,4:0.1}", 6);
    await simRun(out, "sim:d", "{1:0.005,2:0.795,3:0.1,4:0.1}", 6);
    await simRun(out, "sim:e", long, 5);
    // The same P_task from a study, named "extreme" there.
    const outcomes = await runStudy(parseStudy("models: [sim:e]\ntargets: [extreme]\nsteps: 6\nruns: 2\n", join(dir, "s.yaml")), out);
    assert.equal(outcomes[0]!.status, "done");
    file = join(dir, "report.html");
    const res = await ptalign(["report", out, "--out", file]);
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stderr, /internal error/);
  });

  it("a wide numeric support is binned into at most MAX_ROWS rows of consecutive values, each the sum of its answers", () => {
    const r = wide[1000]!;
    const rows = supportRows(r);
    assert.equal(rows.labels.length, MAX_ROWS);
    assert.equal(rows.labels[0], "1–25");
    assert.equal(rows.labels.at(-1), "976–1000");
    assert.match(rows.note!, /binned: 25 answers per row/);
    // the rows partition the support, and the heatmap's cells carry the group sums
    assert.equal(rows.groups.flat().length, 1000);
    assert.equal(new Set(rows.groups.flat()).size, 1000);
    const cells = (heatmapSpec(r) as { hconcat: { layer?: { data: { values: { t: number; answer: string; p: number }[] } }[] }[] }).hconcat[0]!.layer![0]!.data.values;
    assert.equal(cells.length, 3 * MAX_ROWS);
    const q0 = r.runs[0]!.steps[0]!.ptoken;
    const first = cells.find((c) => c.t === 0 && c.answer === "1–25")!;
    assert.ok(Math.abs(first.p - q0.slice(0, 25).reduce((a, b) => a + b, 0)) < 1e-12);
    const hist = (histogramSpec(r) as { data: { values: { p_task: number }[] } }).data.values;
    assert.ok(Math.abs(hist.reduce((s, v) => s + v.p_task, 0) - 1) < 1e-9);
  });

  it("a wide non-numeric support shows its top answers and sums the rest in one row", () => {
    const rows = supportRows({ ...wide[1000]!, target: parseDist(long), runs: [] });
    assert.equal(rows.labels.length, MAX_ROWS);
    assert.equal(rows.labels.at(-1), `other (${50 - (MAX_ROWS - 1)} answers)`);
    assert.match(rows.note!, /top 39 of 50 answers/);
  });

  it("P_task labels never round a small probability up", () => {
    assert.equal(probLabel(0.005), "0.005");
    assert.equal(probLabel(0.0004), "0.0004");
    assert.equal(probLabel(0.1), "0.10");
    assert.equal(probLabel(0), "0");
  });

  it("in Chromium: every chart renders, wide ones binned and saying so, legends present, nothing overflows the page", async () => {
    await withPage(async (page) => {
      await page.goto(`file://${file}`);
      const charts = await page.$$eval(".chart", (els) =>
        els.map((el) => ({ kind: el.getAttribute("data-chart"), marks: el.querySelectorAll("g.role-mark > *").length, text: el.textContent ?? "", width: el.querySelector("svg")?.getBoundingClientRect().width ?? 0 })),
      );
      assert.equal(charts.length, 1 + 7 * 3, "the map, and three charts for each of the 7 measurements");
      for (const c of charts) assert.ok(c.marks > 0 && c.width > 50, `${c.kind} drawn`);
      const heatmaps = charts.filter((c) => c.kind === "heatmap");
      assert.equal(heatmaps.filter((c) => /binned: \d+ answers per row/.test(c.text)).length, 3, "the three numeric wide supports say they are binned");
      assert.equal(heatmaps.filter((c) => /top 39 of 50 answers/.test(c.text)).length, 1);
      for (const h of heatmaps) assert.match(h.text, /sample drawn/, "the sample dots have a legend");
      for (const h of charts.filter((c) => c.kind === "histogram")) assert.match(h.text, /P_task/, "the P_task ticks have a legend");
      assert.ok(heatmaps.some((h) => h.text.includes("0.005")), "0.005 is labelled 0.005");
      // Equal targets ("extreme" and its DIST text) are one legend entry, named by the shorter label.
      const legend = await page.$$eval('[data-chart="scatter"] .role-legend-label text', (ts) => ts.map((t) => t.textContent));
      assert.ok(legend.includes("extreme"), `legend: ${legend.join(" | ")}`);
      assert.ok(!legend.some((l) => l?.startsWith("{1:0.1,2:0.7")), "no second entry for the same P_task");
      const width = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(width[0]! <= width[1]!, `no horizontal overflow (${width[0]} > ${width[1]})`);
      const longest = await page.$$eval("h2, td", (els) => Math.max(...els.map((e) => (e.textContent ?? "").length)));
      assert.ok(longest < 400, `long targets are abbreviated on the page (longest text ${longest})`);
    }, { viewport: { width: 1400, height: 1000 } });
  });
});
