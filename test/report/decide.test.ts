// The decision task's charts in the report, rendered in headless Chromium: P(B) against bRate (a model that follows
// people lies on the diagonal), the label distributions (model against the 100 annotators), the verdict shares.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { withPage } from "../support/browser.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const CSV = `Problem,Feedback,n,Block,Ha,pHa,La,Hb,pHb,Lb,LotShapeB,LotNumB,Amb,Corr,bRate,bRate_std
1,True,15,2,26,0.95,-1,23,0.05,21,0,1,False,0,0.6266666666666667,0.3844600418893019
2,True,15,4,14,0.6,-18,8,0.25,-5,0,1,True,-1,0.4933333333333334,0.4131182235954578
3,True,17,4,2,0.5,0,1,1.0,1,0,1,False,0,0.611764705882353,0.4328428596805896
4,True,18,3,37,0.05,8,87,0.25,-31,1,2,False,0,0.2222222222222222,0.3873827041533013
`;
const PROBLEMS = {
  "0": { B: [[0.95, 21.0], [0.05, 23.0]], A: [[0.95, 26.0], [0.050000000000000044, -1.0]] },
  "1": { B: [[0.75, -5.0], [0.25, 8.0]], A: [[0.6, 14.0], [0.4, -18.0]] },
  "2": { B: [[1.0, 1.0]], A: [[0.5, 2.0], [0.5, 0.0]] },
  "3": { B: [[0.75, -31.0], [0.125, 86.5], [0.125, 87.5]], A: [[0.05, 37.0], [0.95, 8.0]] },
};
const SNLI = [
  { uid: "a", label_count: [30, 70, 0], majority_label: "n", example: { premise: "Two kids wash their hands.", hypothesis: "Kids at a ballgame.", source: "snli_agree_3" } },
  { uid: "b", label_count: [3, 94, 3], majority_label: "n", example: { premise: "A man sells donuts.", hypothesis: "People wait in line.", source: "snli_agree_3" } },
].map((x) => JSON.stringify(x)).join("\n") + "\n";

describe("report: task decide charts in the browser", () => {
  let file: string;

  before(async () => {
    const dir = await tempDir();
    const c13k = join(dir, "choices13k");
    await mkdir(c13k);
    await writeFile(join(c13k, "c13k_selections.csv"), CSV);
    await writeFile(join(c13k, "c13k_problems.json"), JSON.stringify(PROBLEMS));
    await writeFile(join(dir, "chaosNLI_snli.jsonl"), SNLI);
    const out = join(dir, "results");
    for (const data of [c13k, join(dir, "chaosNLI_snli.jsonl")]) {
      const r = await ptalign(["task", "decide", "--model", "sim:e?noise=0&leak=0", "--model", "sim:d", "--data", data, "--draws", "4", "--bootstrap", "100", "--out", out]);
      assert.equal(r.code, 0, r.stderr);
    }
    file = join(dir, "report.html");
    const res = await ptalign(["report", out, "--out", file]);
    assert.equal(res.code, 0, res.stderr);
  });

  it("P(B) against bRate: one point per problem and model, sim:e's on the diagonal; label points; verdict bars", async () => {
    await withPage(async (page) => {
      await page.goto(`file://${file}`);
      const figures = await page.$$eval("section.tasks figure", (els) =>
        els.map((el) => ({
          caption: el.querySelector("figcaption")?.textContent ?? "",
          marks: [...el.querySelectorAll("[aria-label]")].map((m) => {
            const b = m.getBoundingClientRect();
            return { label: m.getAttribute("aria-label")!, role: m.getAttribute("aria-roledescription"), x: b.x, y: b.y, width: b.width, height: b.height };
          }),
          lines: [...el.querySelectorAll("g.mark-line path")].map((p) => {
            const b = p.getBoundingClientRect();
            return { x: b.x, y: b.y, width: b.width, height: b.height };
          }),
        })),
      );
      const pb = figures.find((f) => f.caption.startsWith("choices: the model's P_token(B)"));
      assert.ok(pb, `a P(B) figure among: ${figures.map((f) => f.caption).join(" | ")}`);
      const points = pb.marks.filter((m) => m.role === "point");
      assert.equal(points.length, 4 * 2, "4 problems × 2 models");
      // The dashed diagonal spans the plot from (0, 0) to (1, 1): its box is the plot area.
      const diag = pb.lines[0]!;
      assert.ok(diag.width > 100 && diag.height > 100, "the diagonal is drawn");
      const e = points.filter((p) => p.label.includes("model: sim:e"));
      assert.equal(e.length, 4);
      for (const p of e) {
        const fx = (p.x + p.width / 2 - diag.x) / diag.width;
        const fy = (diag.y + diag.height - (p.y + p.height / 2)) / diag.height;
        assert.ok(Math.abs(fx - fy) < 0.02, `sim:e follows people: ${p.label} at (${fx.toFixed(3)}, ${fy.toFixed(3)})`);
      }
      const labels = figures.find((f) => f.caption.startsWith("labels:"));
      assert.ok(labels);
      assert.equal(labels.marks.filter((m) => m.role === "point").length, 2 * 3 * 2, "2 items × 3 labels × 2 models");
      const verdicts = figures.find((f) => f.caption.startsWith("per-context verdicts"));
      assert.ok(verdicts && verdicts.marks.some((m) => m.role === "bar" && m.width > 10), "verdict bars drawn");
    }, { viewport: { width: 1400, height: 1000 } });
  });
});
