import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { withPage } from "../support/browser.ts";
import { ptalign } from "../support/cli.ts";
import { writeBeir } from "../support/searchLayouts.ts";
import { tempDir } from "../support/tmp.ts";

/** Pixel positions of the exposure chart's points and its diagonal, as Chromium lays the report out. */
async function exposureChart(file: string) {
  return withPage(async (page) => {
    await page.goto(`file://${file}`);
    // No named functions inside: the page runs this code as written, without tsx's helpers.
    return page.$$eval("section.tasks figure", (figs) => {
      const fig = figs.find((f) => /on the dashed diagonal/.test(f.querySelector("figcaption")?.textContent ?? ""));
      if (!fig) return null;
      const line = fig.querySelector(".mark-line.role-mark path");
      const lr = line ? line.getBoundingClientRect() : null;
      return {
        points: [...fig.querySelectorAll(".mark-symbol.role-mark path")].map((el) => el.getBoundingClientRect()).map((r) => ({ x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width, h: r.height })),
        // The dashed diagonal from (0, 0) to (top, top): bottom-left to top-right of its box.
        diagonal: lr ? { x0: lr.x, y0: lr.y + lr.height, x1: lr.x + lr.width, y1: lr.y } : null,
      };
    });
  }, { viewport: { width: 1400, height: 1000 } });
}

describe("report: the search task's exposure chart, rendered in headless Chromium", () => {
  let out: string;
  let data: string;
  before(async () => {
    const root = await tempDir();
    out = join(root, "results");
    data = await writeBeir(join(root, "beir"), Array.from({ length: 5 }, (_, i) => ({ id: `d${i + 1}`, text: `doc ${i + 1}` })), [{ id: "q1", text: "a" }, { id: "q2", text: "b" }], [
      ["q1", "d1", 3], ["q1", "d2", 2], ["q1", "d3", 1], ["q2", "d4", 2], ["q2", "d5", 1],
    ]);
  });

  it("a target-following model's points lie on the diagonal; a collapsed model's leave it", async () => {
    const run = (model: string) => ptalign(["task", "search", "--model", model, "--data", data, "--pool", "5", "--runs", "3", "--out", out]);
    assert.equal((await run("sim:e?noise=0")).code, 0);
    const file = join(out, "report.html");
    assert.equal((await ptalign(["report", out, "--out", file])).code, 0);
    const off = (p: { x: number; y: number }, d: { x0: number; y0: number; x1: number; y1: number }) => {
      // Distance in pixels from the point to the diagonal's line.
      const [dx, dy] = [d.x1 - d.x0, d.y1 - d.y0];
      return Math.abs(dy * (p.x - d.x0) - dx * (p.y - d.y0)) / Math.hypot(dx, dy);
    };
    const fair = await exposureChart(file);
    assert.ok(fair && fair.diagonal, "the chart and its diagonal are drawn");
    assert.equal(fair.points.length, 10, "one point per pool document (2 queries × 5)");
    assert.ok(fair.points.every((p) => p.w > 0 && p.h > 0), "points are visible");
    for (const p of fair.points) assert.ok(off(p, fair.diagonal) < 1.5, `on the diagonal: ${JSON.stringify(p)} ${JSON.stringify(fair.diagonal)}`);

    assert.equal((await run("sim:collapsed?peak=1&jitter=0")).code, 0);
    assert.equal((await ptalign(["report", out, "--out", file])).code, 0);
    const both = await exposureChart(file);
    assert.equal(both!.points.length, 20);
    assert.ok(both!.points.filter((p) => off(p, both!.diagonal!) > 20).length >= 4, "the collapsed model's exposure is far from its target");
    // The per-query panels: one step line of ε* per query, one point per document and model.
    const panels = await withPage(async (page) => {
      await page.goto(`file://${file}`);
      return page.$$eval("section.tasks figure", (figs) => {
        const fig = figs.find((f) => /^per query/.test(f.querySelector("figcaption")?.textContent ?? ""));
        return fig ? { lines: fig.querySelectorAll(".mark-line.role-mark path").length, points: fig.querySelectorAll(".mark-symbol.role-mark path").length, titles: [...fig.querySelectorAll("text")].map((t) => t.textContent) } : null;
      });
    });
    assert.ok(panels, "the per-query figure is drawn");
    assert.equal(panels.lines, 2);
    assert.equal(panels.points, 20);
    assert.ok(panels.titles.includes("q1") && panels.titles.includes("q2"), "a panel per query, titled with its id");
  });
});
