import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("report and store: downstream tasks", () => {
  it("adds the task charts of DIR/tasks after the comparison table", async () => {
    const dir = join(await tempDir(), "results");
    const run = await ptalign(["run", "--model", "sim:e", "--target", "extreme", "--steps", "5", "--runs", "2", "--out", dir]);
    assert.equal(run.code, 0, run.stderr);
    for (const model of ["sim:e", "sim:d"]) {
      const task = await ptalign(["task", "codegen", "--model", model, "--limit", "3", "--n", "5", "--runs", "2", "--temperature", "0.2,1", "--out", dir]);
      assert.equal(task.code, 0, task.stderr);
    }
    // The store keeps them too: ls lists both task results.
    const ls = await ptalign(["ls", dir]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal((ls.stdout.match(/^\S+codegen-sim-\S+\s+codegen\s+sim:[de]\?/gm) ?? []).length, 2, ls.stdout);
    const out = join(dir, "report.html");
    const res = await ptalign(["report", dir, "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const html = await readFile(out, "utf8");
    const tasks = html.slice(html.indexOf('<section class="tasks">'));
    assert.ok(html.indexOf('<section class="tasks">') > html.indexOf('id="compare"'), "task section after the comparison");
    assert.ok(/<h2>Downstream tasks<\/h2>/.test(tasks));
    assert.ok(/<figure><svg[\s\S]*?<path[^>]*role-mark|<figure><svg[\s\S]*?mark-symbol/.test(tasks), "the pass@k-vs-diversity chart has marks");
    // The canonical sim spec carries "&": it is escaped in the page.
    assert.ok(/codegen · sim:d\?peak=0\.95&#38;leak=0\.01&#38;repeat=0 · 3 problems · n = 5/.test(tasks), "one line per task result");
  });
});
