// Ctrl-C during a task (issue 20.11), in the library: the task's AbortSignal is aborted after k units (problems
// runs, user evaluations); the task finishes the unit in progress, returns a result of exactly the finished ones,
// marked `interrupted`, whose numbers equal those of the same units measured alone. (The process side — exit 130, the
// result stored — is test/cli/signals.test.ts.)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateWorld, loadProblems, runCodegen, runRecommend } from "../../src/tasks/index.ts";
import { Interrupted } from "../../src/errors.ts";
import { writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { decideTask } from "../../src/tasks/decide/task.ts";
import { tempDir } from "../support/tmp.ts";

const abortAfter = (k: number) => {
  const c = new AbortController();
  let n = 0;
  return { signal: c.signal, tick: () => (++n === k ? c.abort(new Interrupted("SIGTERM")) : undefined) };
};

describe("tasks interrupted", () => {
  it("codegen keeps the problem runs it finished; they are the uninterrupted run's first ones", async () => {
    const problems = (await loadProblems()).slice(0, 4);
    const settings = { n: 3, temperatures: [0.5, 1], runs: 1, seed: 1, ks: [1], maxTokens: 64, limits: { timeoutMs: 1000, memoryMb: 16, maxOutputChars: 4096 } };
    const whole = await runCodegen("sim:d", problems, settings);
    const stop = abortAfter(3 * 5 + 1); // in the middle of the 6th problem run (3 samples each)
    const cut = await runCodegen("sim:d", problems, settings, { signal: stop.signal, onSample: stop.tick });
    assert.deepEqual(cut.interrupted, { signal: "SIGTERM", done: 6, total: 8, unit: "problem runs" });
    assert.deepEqual(cut.cells, whole.cells.slice(0, 6), "the finished problem runs, each whole");
    assert.deepEqual(cut.summaries.map((s) => s.temperature), [0.5, 1], "a temperature reached is summarised");
    assert.equal(whole.interrupted, undefined);
  });

  it("recommend keeps the users it evaluated", async () => {
    const world = generateWorld({ seed: 2, items: 20, categories: 4, users: 6, history: 3, candidates: 4, alpha: 0.5 });
    const settings = { ks: [1, 3], runs: 1, seed: 1, permutations: 0, temperature: 1, prune: 0, labels: "letters" as const };
    const whole = await runRecommend("sim:e", world, settings);
    const stop = abortAfter(4);
    const cut = await runRecommend("sim:e", world, settings, { signal: stop.signal, onUser: stop.tick });
    assert.deepEqual(cut.interrupted, { signal: "SIGTERM", done: 4, total: 6, unit: "user evaluations" });
    assert.deepEqual(cut.users, whole.users.slice(0, 4));
  });

  it("a choice task stops between contexts, keeps its checkpoint, and the next measurement resumes to the uninterrupted numbers", async () => {
    const dir = await tempDir();
    const file = join(dir, "d.jsonl");
    await writeFile(file, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `q${i}`, context: `Question ${i}?`, options: ["yes", "no"], counts: [i + 1, 6 - i] })).join("\n") + "\n");
    const values = { seed: 1, data: file, draws: 3, bootstrap: 50, permutations: 0, save: true, out: join(dir, "results") };
    const settings = decideTask.settings(values);
    const data = await decideTask.load(settings);
    const whole = await decideTask.measure("sim:d", data, decideTask.settings({ ...values, save: false }), {});
    const per = decideTask.units(data, settings) / 6;
    const stop = abortAfter(2 * per + 1); // in the third context
    const cut = await decideTask.measure("sim:d", data, settings, { signal: stop.signal, onUnit: stop.tick });
    assert.deepEqual(cut.interrupted, { signal: "SIGTERM", done: 3, total: 6, unit: "contexts" });
    assert.deepEqual(cut.contexts, whole.contexts.slice(0, 3), "the finished contexts, each whole");
    await decideTask.stored?.(cut);
    assert.equal((await readdir(join(dir, "results", "tasks", "partial"))).length, 1, "an interrupted result keeps its checkpoint");
    const resumed = await decideTask.measure("sim:d", data, settings, {});
    assert.equal(resumed.resumed, 3);
    assert.equal(resumed.interrupted, undefined);
    assert.deepEqual(resumed.contexts, whole.contexts);
    assert.deepEqual(resumed.metrics, whole.metrics);
  });
});
