// test-process: own — a 2,000-cell study (top-level hook) (test/support/suite.ts)
// Issue 20, item 13: a large study's report. Three charts per measurement made a 2,000-cell study's report 96 MB
// and 78 s, and `view` rendered it on its event loop (/version waited 87 s). Above CHART_LIMIT measurements the
// sections are compact (bounded bytes per cell); `view` renders in a worker thread and loads a section's charts on
// demand. Timings and the 2,000-cell figures: bench/report.ts.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildReport, CHART_LIMIT } from "../../src/report/html.ts";
import { CHART_LIMIT_TEXT } from "../../src/cli/report.ts";
import { loadRuns } from "../../src/report/partial.ts";
import { startViewer, type Viewer } from "../../src/report/server.ts";
import type { StoredRun } from "../../src/store/read.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

// 3 models × 5 targets × 4 temperatures × 2 seeds = 120 cells (> CHART_LIMIT), 1 run × 4 steps each.
const STUDY = 'models: [sim:e, sim:d, sim:collapsed]\ntargets: [extreme, flat, "uniform(1,6)", "bernoulli(0.7)", "{a:0.2,b:0.3,c:0.5}"]\ntemperatures: [0.5, 1, 1.5, 2]\nseeds: [1, 2]\nsteps: 4\nruns: 1\n';

let dir: string;
let runs: StoredRun[];
before(async () => {
  const tmp = await tempDir();
  await writeFile(join(tmp, "s.yaml"), STUDY);
  dir = join(tmp, "out");
  const r = await ptalign(["run", join(tmp, "s.yaml"), "--out", dir]);
  assert.equal(r.code, 0, r.stderr);
  runs = await loadRuns(dir);
  assert.equal(runs.length, 120);
});

describe("the report of a large study stays small", () => {
  it("above CHART_LIMIT the sections are compact: bounded HTML bytes per measurement, no per-cell charts", async () => {
    assert.equal(CHART_LIMIT, CHART_LIMIT_TEXT);
    // 2,000 measurements (the 120 repeated under other ids): the page grows linearly, ~2.5 KB a measurement.
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...runs[i % runs.length]!, id: `${runs[i % runs.length]!.id}-${i}` }));
    const html = await buildReport(many, { source: "big" });
    const perCell = html.length / many.length;
    assert.ok(perCell < 4000, `${perCell.toFixed(0)} bytes per measurement`);
    assert.equal((html.match(/data-chart="heatmap"/g) ?? []).length, 0);
    assert.equal((html.match(/<section class="run"/g) ?? []).length, 2000);
    assert.match(html, /2000 measurements: the sections below are compact .*ptalign report big --charts all/);
    const small = await buildReport(many.slice(0, 200), { source: "big" });
    assert.ok(Math.abs(small.length / 200 - perCell) / perCell < 0.25, "linear in the number of measurements");
  });
  it("--charts all puts every chart inline (the old page); at or below the limit nothing changes", async () => {
    const all = await buildReport(runs.slice(0, 12), { source: "d", charts: 5 });
    assert.equal((all.match(/data-chart="heatmap"/g) ?? []).length, 0);
    const full = await buildReport(runs.slice(0, 12), { source: "d" });
    assert.equal((full.match(/data-chart="heatmap"/g) ?? []).length, 12);
    // Through the CLI on a small study (every chart rendered costs ~30 ms): --charts 2 makes its 3 sections compact,
    // --charts all puts all of them inline.
    const tmp = await tempDir();
    await writeFile(join(tmp, "small.yaml"), "models: [sim:e]\ntargets: [extreme, flat, \"uniform(1,6)\"]\nsteps: 4\nruns: 1\n");
    const smallDir = join(tmp, "small");
    assert.equal((await ptalign(["run", join(tmp, "small.yaml"), "--out", smallDir])).code, 0);
    const out = join(tmp, "r.html");
    const heatmaps = async (charts: string) => {
      const r = await ptalign(["report", smallDir, "--out", out, "--charts", charts]);
      assert.equal(r.code, 0, r.stderr);
      return ((await readFile(out, "utf8")).match(/data-chart="heatmap"/g) ?? []).length;
    };
    assert.equal(await heatmaps("2"), 0);
    assert.equal(await heatmaps("all"), 3);
    const bad = await ptalign(["report", dir, "--out", out, "--charts", "some"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--charts must be a whole number ≥ 0 or all \(got some\)/);
  });
});

describe("view renders off its event loop and loads a section's charts on demand", () => {
  let viewer: Viewer;
  let base: string;
  before(async () => {
    viewer = await startViewer({ dir, port: 0 });
    base = viewer.url;
  });
  after(() => viewer.close());

  it("/version answers while the page is rendering", async () => {
    const t0 = Date.now();
    let pageAt = 0;
    const page = fetch(base).then(async (r) => {
      pageAt = Date.now() - t0;
      return { status: r.status, body: await r.text() };
    });
    await new Promise((r) => setTimeout(r, 50)); // the render has started
    const v = await fetch(new URL("/version", base));
    const versionAt = Date.now() - t0;
    assert.equal(v.status, 200);
    assert.ok(pageAt === 0 || versionAt <= pageAt, `/version after ${versionAt} ms, page after ${pageAt} ms`);
    const p = await page;
    assert.equal(p.status, 200);
    assert.ok(versionAt < pageAt, `/version (${versionAt} ms) answered before the page (${pageAt} ms)`);
    // The page: compact sections with a button per measurement that loads its charts from /charts/<id>.
    const src = /data-src="(\/charts\/[^"]+)"/.exec(p.body)?.[1];
    assert.ok(src, "a compact section has a charts source");
    const charts = await fetch(new URL(src!, base));
    assert.equal(charts.status, 200);
    const fragment = await charts.text();
    assert.match(fragment, /^<div class="charts">[\s\S]*data-chart="heatmap"[\s\S]*<svg/);
    assert.match(fragment, /<p class="analysis">/);
    assert.equal((await fetch(new URL("/charts/no-such-id", base))).status, 404);
  });
});
