// The probe in the stored record: `ptalign report` draws the lens heatmap, the commit-layer histogram and the
// attention per block (rendered in headless Chromium, as the other report tests), `ptalign analyze` says it in words.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { dLikeSpec, writeBigramModel, type BigramSpec } from "../../src/synth/index.ts";
import { withPage } from "../support/browser.ts";
import { ptalign } from "../support/cli.ts";
import { cachedModel } from "../support/modelCache.ts";
import { tempDir } from "../support/tmp.ts";

const LAYERS = 4;
const STEPS = 4;
function spec(): BigramSpec {
  // As in lens.test.ts: written at block 2 of 4; before it the lens reads a row peaked on "2".
  const before = [0.1, 0.6, 0.15, 0.15];
  return { ...dLikeSpec(["1", "2", "3", "4"], { peak: 0.94, first: 1 }), compute: { layers: LAYERS }, lens: { layer: 2, before: Object.fromEntries(["1", "2", "3", "4"].map((a, i) => [`▁${a},`, before[i]!])) } };
}

describe("probe results in report and analyze", () => {
  let dir: string;
  let out: string;
  before(async () => {
    const model = await cachedModel("d-lens.gguf", spec(), (p) => writeBigramModel(p, spec()));
    dir = await tempDir();
    out = join(dir, "results");
    const r = await ptalign(["probe", "--model", model, "--target", "extreme", "--steps", String(STEPS), "--runs", "1", "--seed", "2", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("report: lens heatmap (one cell per block and step), commit histogram, attention per block, all drawn", async () => {
    const file = join(dir, "report.html");
    const r = await ptalign(["report", out, "--out", file]);
    assert.equal(r.code, 0, r.stderr);
    await withPage(async (page) => {
      await page.goto(`file://${file}`);
      const charts = await page.$$eval(".probe .chart", (els) =>
        els.map((el) => {
          const box = el.querySelector("svg")?.getBoundingClientRect();
          return { kind: el.getAttribute("data-chart"), width: box?.width ?? 0, height: box?.height ?? 0, rects: el.querySelectorAll("g.role-mark path, g.role-mark rect").length };
        }),
      );
      assert.deepEqual(charts.map((c) => c.kind), ["lens", "commit", "attention"]);
      for (const c of charts) assert.ok(c.width > 50 && c.height > 50 && c.rects > 0, `${c.kind} drawn (${JSON.stringify(c)})`);
      const lens = charts[0]!;
      assert.ok(lens.rects >= LAYERS * STEPS, `a cell per block and step (${lens.rects})`);
      const words = await page.$eval(".probe .analysis", (el) => el.textContent ?? "");
      assert.match(words, /4 blocks, 4 steps probed/);
      assert.match(words, /median commit layer/);
    }, { viewport: { width: 1400, height: 1000 } });
  });

  it("analyze: the probe summary in JSON and in words", async () => {
    const j = await ptalign(["analyze", out, "--json"]);
    assert.equal(j.code, 0, j.stderr);
    const [a] = JSON.parse(j.stdout) as { probe: { layers: number; commit_histogram: Record<string, number>; attention: unknown[] } }[];
    assert.equal(a!.probe.layers, LAYERS);
    assert.equal(Object.values(a!.probe.commit_histogram).reduce((x, y) => x + y, 0), STEPS);
    assert.equal(a!.probe.attention.length, LAYERS);
    const t = await ptalign(["analyze", out]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /inside the model \(ptalign probe\):/);
    assert.match(t.stdout, /attention to the earlier samples averages/);
  });
});
