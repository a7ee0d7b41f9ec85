import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateWorld, loadProblems, loadTaskResults, runCodegen, runRecommend, saveTaskResult } from "../../src/tasks/index.ts";
import { passDiversityPoints } from "../../src/tasks/codegen/plots.ts";
import { taskChartsSvg, taskReportSection } from "../../src/report/tasks.ts";
import { tempDir } from "../support/tmp.ts";

describe("task results: store and charts for the report", () => {
  it("saves to DIR/tasks, loads back, and renders pass@k-vs-diversity and accuracy/diversity/stability as SVG", async () => {
    const problems = (await loadProblems()).slice(0, 3);
    const s = { n: 4, temperatures: [0.2, 1], runs: 2, seed: 1, ks: [1], maxTokens: 10, limits: { timeoutMs: 1000, memoryMb: 16, maxOutputChars: 100 } };
    const world = generateWorld({ seed: 1, items: 20, categories: 4, users: 4, history: 3, candidates: 4, alpha: 0.5 });
    const results = [await runCodegen("sim:e", problems, s), await runCodegen("sim:d", problems, s), await runRecommend("sim:e", world, { temperature: 1, runs: 1, seed: 1, permutations: 1, ks: [1, 3], labels: "letters", prune: 1e-7 })];
    const dir = await tempDir();
    for (const r of results) await saveTaskResult(dir, r);
    const loaded = await loadTaskResults(dir);
    assert.deepEqual(loaded.map((r) => r.task).sort(), ["codegen", "codegen", "recommend"]);
    const points = passDiversityPoints(results.slice(0, 2) as never);
    assert.deepEqual(points.map((p) => [p.model.replace(/\?.*/, ""), p.temperature]), [["sim:e", 0.2], ["sim:e", 1], ["sim:d", 0.2], ["sim:d", 1]]);
    const svg = await taskChartsSvg(loaded);
    assert.match(svg.codegen!, /^<svg[\s\S]*pass@1 vs diversity[\s\S]*<\/svg>$/);
    assert.match(svg.recommend!, /^<svg[\s\S]*accuracy vs diversity vs stability[\s\S]*<\/svg>$/);
    const html = await taskReportSection(loaded);
    assert.match(html, /^<section class="tasks"><h2>Downstream tasks<\/h2>[\s\S]*<svg[\s\S]*<li>codegen · sim:e\?noise=0\.1&#38;leak=0\.01&#38;repeat=0 · 3 problems/);
    assert.equal(await taskReportSection([]), "");
  });
});
