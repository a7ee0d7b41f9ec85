import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { taskDemoTable } from "../../src/cli/task.ts";
import { runTaskDemo } from "../../src/tasks/demo.ts";

describe("the demo's downstream-task tables", () => {
  it("shows both tasks on sim and generated models, with the documented behaviour", async () => {
    const d = await runTaskDemo(1);
    const text = taskDemoTable(d);
    const [cg, rc] = text.split("\n\n");
    assert.match(cg!.split("\n")[0]!, /^codegen\s+problems\s+T\s+pass@1\s+pass@5\s+pass1_sd\s+distinct\s+edit_dist\s+entropy\s+top1>0\.9$/);
    assert.deepEqual(rc!.split("\n").slice(1).map((l) => l.split(/\s+/)[0]), ["sim:e", "sim:d", "sim:collapsed", "synth:position"]);
    const summary = (name: string, T: number) => d.codegen.find((c) => c.name === name)!.result.summaries.find((s) => s.temperature === T)!;
    // The deterministic writer: always right, one program, no spread, certain at every token.
    const e = summary("synth:code-e", 1);
    assert.deepEqual([e.pass_at_k["1"], e.stability.pass1_sd, e.diversity.distinct_passing + e.diversity.distinct_failing, e.profile.top1_gt_0_9], [1, 0, 1, 1]);
    // sim:d commits hard (top-1 > 0.9 at every decision) yet writes several programs even at T = 0.2; sim:e does not.
    assert.equal(summary("sim:d", 0.2).profile.top1_gt_0_9, 1);
    assert.ok(summary("sim:d", 0.2).diversity.edit_distance! > summary("sim:e", 0.2).diversity.edit_distance!);
    // The position-biased generated model is the least stable under re-ordering; a deterministic engine is stable across seeds.
    const rec = Object.fromEntries(d.recommend.map((r) => [r.name, r.result.metrics]));
    assert.ok(rec["synth:position"]!.stability.permutation! < rec["sim:e"]!.stability.permutation!);
    assert.equal(rec["synth:position"]!.stability.seeds, 1);
    assert.ok(rec["sim:e"]!.tv! < rec["sim:d"]!.tv! && rec["sim:d"]!.tv! < rec["sim:collapsed"]!.tv!);
  });
});
