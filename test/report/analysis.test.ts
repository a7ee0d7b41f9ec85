import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("report: analysis and correction", () => {
  it("shows each measurement's internal properties and a corrected run's before/after", async () => {
    const dir = join(await tempDir(), "results");
    const corrected = await ptalign(["correct", "--model", "sim:collapsed", "--target", "extreme", "--steps", "20", "--runs", "3", "--out", dir, "--json"]);
    assert.equal(corrected.code, 0, corrected.stderr);
    const c = JSON.parse(corrected.stdout) as { before: { marginal_tvd: number }; after: { marginal_tvd: number } };
    const out = join(dir, "report.html");
    const res = await ptalign(["report", dir, "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const html = await readFile(out, "utf8");
    assert.match(html, /<p class="analysis"><b>analysis<\/b>: history coefficient -?\d\.\d{3}[^<]*effective temperature \d+\.\d{3}/);
    const table = /<b>logit-bias correction<\/b>[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
    // The stored before/after are the numbers `correct` printed.
    assert.match(table, new RegExp(`<tr><td>before</td><td>[\\d.]+</td><td>${c.before.marginal_tvd.toFixed(3)}</td>`));
    assert.match(table, new RegExp(`<tr><td>after</td><td>[\\d.]+</td><td>${c.after.marginal_tvd.toFixed(3)}</td>`));
    assert.ok(c.after.marginal_tvd < c.before.marginal_tvd);
  });
});
