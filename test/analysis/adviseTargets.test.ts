// advise compares like with like: per target, overall only on targets every model shares, every line naming the
// measurement it uses; off-format measurements are never recommended (issue 13, issue 10 point 1).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { advise, PROFILES, type Advice } from "../../src/analysis/advise.ts";
import { parseDist } from "../../src/distributions/index.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { loadRuns as loadStored } from "../../src/report/partial.ts";
import { targetLabel } from "../../src/store/read.ts";
import { measure } from "../../src/run.ts";
import { newRunId, saveResult } from "../../src/store/results.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("advise: like with like", () => {
  it("ranks per target, overall only on shared targets, and names each line's measurement", async () => {
    const dir = join(await tempDir(), "res");
    // Measured in process (the CLI's own path, measure + saveResult) to keep the test fast; advise runs through the CLI.
    const run = async (model: string, target: string, T = "1") => {
      const r = await measure({ model, target: parseDist(target), protocol: "sequential", settings: { steps: 20, runs: 3, temperature: Number(T), seed: 4, prune: 1e-7 }, template: DEFAULT_TEMPLATE });
      await saveResult(dir, { ...r, id: newRunId(model) });
    };
    const adviseIn = async () => advise((await loadStored(dir)).map((r) => ({ ...r, label: targetLabel(r) })), PROFILES.calibration);
    // sim:d and sim:e share extreme; only sim:collapsed is measured on {a,b,c}; sim:e?leak=0.9 is off-format.
    await run("sim:d", "extreme");
    await run("sim:e", "extreme");
    await run("sim:e", "extreme", "0.7");
    await run("sim:collapsed", "{a:0.3,b:0.3,c:0.4}");
    await run("sim:e?leak=0.9", "extreme");
    const a: Advice = await adviseIn();
    assert.equal(a.targets.length, 2);
    const extreme = a.targets.find((t) => t.target === "{1:0.1,2:0.7,3:0.1,4:0.1}" || t.target === "extreme")!;
    assert.ok(extreme, JSON.stringify(a.targets.map((t) => t.target)));
    assert.deepEqual(extreme.ranking.map((l) => l.model.replace(/\?.*/, "")), ["sim:e", "sim:d"]);
    // No target is shared by all three ranked models: no overall ranking mixing targets.
    assert.deepEqual(a.ranking, []);
    assert.deepEqual(a.shared, []);
    // Each line names its measurement (id, target, setting), and the id is a stored run.
    for (const l of a.targets.flatMap((t) => t.ranking)) {
      assert.ok(l.id && l.reason.includes(`measurement ${l.id}`) && l.reason.includes(` on ${l.target}`), l.reason);
      assert.equal(typeof l.setting.temperature, "number");
    }
    // The off-format model is left out and said so.
    assert.equal(a.excluded.length, 1);
    assert.match(a.excluded[0]!.model, /leak=0.9/);
    assert.ok(!a.targets.some((t) => t.ranking.some((l) => l.model.includes("leak=0.9"))));
    const text = await ptalign(["advise", dir, "--prefer", "calibration"]);
    assert.match(text.stdout, /left out \(off-format, leak 0\.900\)/);
    assert.match(text.stdout, /no target was measured for every model/);
    // Once sim:collapsed is also measured on extreme, the overall ranking compares on that one shared target.
    await run("sim:collapsed", "extreme");
    const b = await adviseIn();
    assert.equal(b.shared.length, 1);
    assert.deepEqual(b.ranking.map((l) => l.model.replace(/\?.*/, "")), ["sim:e", "sim:d", "sim:collapsed"]);
    assert.ok(b.ranking.every((l) => l.target === b.shared[0]));
  });
});
