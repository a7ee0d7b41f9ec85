import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("ptalign demo", () => {
  it("runs the sim families and the generated GGUF models and prints the verdict table", async () => {
    const out = join(await tempDir(), "results");
    const res = await ptalign(["demo", "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split("\n\n")[0]!.split("\n");
    assert.match(lines[0]!, /^model\s+atvd\s+marginal_tvd\s+volatility\s+concentration\s+e_score\s+verdict$/);
    const verdict = Object.fromEntries(lines.slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s+/).at(-1)]));
    assert.deepEqual(verdict, { "sim:e": "E", "sim:d": "D", "sim:collapsed": "collapsed", "synth:e": "E", "synth:d": "D", "synth:collapsed": "collapsed" });
    assert.equal((await readdir(join(out, "runs"))).filter((f) => f.endsWith(".json")).length, 6);
    assert.match(res.stdout, new RegExp(`6 runs added to ${out}/runs, \\d+ task results to ${out}/tasks\\n$`));
    assert.ok((await readdir(join(out, "tasks"))).length > 0);
  });
});
