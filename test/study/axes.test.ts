// The prompts and samplers axes of a study: cells per prompt × sampler, each cell measured with its own template and
// sampler, recorded in settings (prompt_name, sampler), and shown as columns.
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseStudy } from "../../src/study/spec.ts";
import { cellsOf } from "../../src/study/matrix.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("study axes: prompts and samplers", () => {
  it("runs every prompt × sampler cell with its own settings", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "terse.txt"), "Answer with one of {{support}}.\n---prefill---\nSamples:");
    const file = join(dir, "s.yaml");
    await writeFile(file, 'models: [sim:e?noise=0&leak=0]\ntargets: ["{1:0.7,2:0.2,3:0.1}"]\nprompts: [default, {name: terse, file: terse.txt}]\nsamplers: [{}, {top_p: 0.8, order: vllm}]\nsteps: 5\nruns: 2\n');
    const cells = cellsOf(parseStudy(await readFile(file, "utf8"), file));
    assert.deepEqual(cells.map((c) => [c.prompt_name, c.sampler_name]), [["default", "none"], ["default", "top_p=0.8"], ["terse", "none"], ["terse", "top_p=0.8"]]);
    assert.equal(new Set(cells.map((c) => c.hash)).size, 4);
    const out = join(dir, "out");
    const res = await ptalign(["run", file, "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /protocol\s+T\s+prompt\s+sampler\s+seed/);
    const ls = await ptalign(["ls", out]);
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trim().split("\n");
    assert.match(lines[0]!, /^prompt\s+id/);
    assert.deepEqual(lines.slice(-4).map((l) => l.split(/\s+/)[0]), ["default", "default", "terse", "terse"]);
    // The report groups by prompt too: a prompt column first, rows ordered by prompt, the prompt in each section.
    const report = await ptalign(["report", out, "--out", join(dir, "r.html")]);
    assert.equal(report.code, 0, report.stderr);
    const html = await readFile(join(dir, "r.html"), "utf8");
    const table = html.slice(html.indexOf('<section id="compare">'), html.indexOf("</table>"));
    assert.match(table, /<th data-col="0" tabindex="0">prompt<\/th><th data-col="1" tabindex="0">model<\/th>/);
    assert.deepEqual([...table.matchAll(/<tr><td data-v="([^"]*)">/g)].map((m) => m[1]), ["default", "default", "terse", "terse"]);
    assert.equal([...html.matchAll(/prompt terse · sequential · temperature/g)].length, 2);
    assert.equal([...html.matchAll(/prompt terse · sequential · T=/g)].length, 2);
    const results = await Promise.all((await readdir(join(out, "runs"))).map(async (f) => JSON.parse(await readFile(join(out, "runs", f), "utf8")) as { settings: Record<string, unknown>; runs: { steps: { ptoken: number[] }[] }[] }));
    assert.equal(results.length, 4);
    for (const r of results) {
      const truncated = r.settings.sampler !== undefined;
      assert.equal(r.runs[0]!.steps[0]!.ptoken[2] === 0, truncated);
      assert.ok(["default", "terse"].includes(r.settings.prompt_name as string));
    }
  });
});
