// test-process: own — it registers a task for the rest of its process (test/support/suite.ts)
// The task registry: a task declared once gets its `ptalign task` subcommand (flags, their errors, help), its
// output and its report section with no other edit; the codegen problem check is returned as structured reasons.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CommanderError } from "commander";
import { taskCommand } from "../../src/cli/task.ts";
import { InputError } from "../../src/errors.ts";
import { taskReportSection } from "../../src/report/tasks.ts";
import { codegenTask } from "../../src/tasks/codegen/task.ts";
import { loadProblems } from "../../src/tasks/codegen/problems.ts";
import { getTask, listTasks, registerTask } from "../../src/tasks/registry.ts";
import type { Task, TaskResult } from "../../src/tasks/task.ts";
import { tempDir } from "../support/tmp.ts";

interface ToyResult extends TaskResult {
  task: "toy";
  score: number;
}

const toy: Task<{ size: number; mode: string }, number[], ToyResult> = {
  name: "toy",
  description: "a toy task for the registry test",
  examples: ["ptalign task toy --model sim:e --size 4"],
  options: [
    { name: "size", value: "n", description: "contexts to make", kind: { type: "whole", min: 2 }, default: 3 },
    { name: "mode", value: "m", description: "a or b", kind: { type: "choice", values: ["a", "b"] }, default: "a" },
  ],
  metrics: [{ name: "score", meaning: "number of contexts", better: "higher" }],
  settings: (v) => ({ size: v.size as number, mode: v.mode as string }),
  load: async (s) => ({ data: Array.from({ length: s.size }, (_, i) => i), contexts: Array.from({ length: s.size }, (_, i) => ({ id: String(i) })), notes: [] }),
  units: (d) => d.data.length,
  measure: async (model, d, s, env) => {
    for (const _ of d.data) env.onUnit?.();
    return { version: 1, task: "toy", model, settings: { ...s }, score: d.data.length };
  },
  table: (rs) => ({ header: ["model", "score"], rows: rs.map((r) => [r.model, r.score]) }),
  plots: (rs) => [{ spec: { data: { values: rs.map((r) => ({ model: r.model, score: r.score })) }, mark: "bar", encoding: { x: { field: "model", type: "nominal" }, y: { field: "score", type: "quantitative" } } }, caption: "toy scores per model" }],
  describe: (r) => `toy · ${r.model} · score ${r.score}`,
};

/** Runs `ptalign task ARGS` in-process; stdout and commander's error output captured. */
async function task(args: string[]): Promise<{ out: string; err: string; error?: unknown }> {
  const cmd = taskCommand();
  let err = "";
  for (const c of cmd.commands) c.configureOutput({ writeErr: (s) => (err += s), writeOut: (s) => (out += s) });
  let out = "";
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  try {
    await cmd.parseAsync(args, { from: "user" });
    return { out, err };
  } catch (error) {
    return { out, err, error };
  } finally {
    process.stdout.write = write;
  }
}

describe("task registry", () => {
  it("lists the built-in tasks and refuses a second task of the same name", () => {
    assert.deepEqual(listTasks().map((t) => t.name).slice(0, 2), ["codegen", "recommend"]);
    registerTask(toy);
    assert.equal(getTask("toy")?.name, "toy");
    assert.throws(() => registerTask(toy), (e: unknown) => e instanceof InputError && /already registered/.test(e.message));
  });

  it("a registered task gets its subcommand: flags and their errors, help, JSON and table output", async () => {
    const sub = taskCommand().commands.find((c) => c.name() === "toy");
    assert.ok(sub, "toy subcommand");
    const help = sub.helpInformation();
    assert.match(help, /--size <n>\s+contexts to make \(default: 3\)/);
    assert.match(help, /-m, --model <spec>/);
    let r = await task(["toy", "-m", "sim:e", "--size", "4", "--json", "--no-save"]);
    assert.equal(r.error, undefined, r.err);
    const [res] = JSON.parse(r.out) as ToyResult[];
    assert.deepEqual([res!.task, res!.model, res!.score], ["toy", "sim:e", 4]);
    r = await task(["toy", "-m", "sim:e", "--no-save"]);
    assert.equal(r.out, "model  score\nsim:e  3.000\n");
    r = await task(["toy", "-m", "sim:e", "--mode", "c", "--no-save"]);
    assert.ok(r.error instanceof CommanderError);
    assert.match(r.err, /--mode must be a or b \(got c\)/);
    r = await task(["toy", "-m", "sim:e", "--size", "1", "--no-save"]);
    assert.match(r.err, /--size must be a whole number ≥ 2 \(got 1\)/);
  });

  it("the report renders a registered task's charts and lines with no edit to the report", async () => {
    const html = await taskReportSection([{ version: 1, task: "toy", model: "m<1>", settings: {}, score: 2 } as ToyResult, { version: 1, task: "unknown-task", model: "x", settings: {} }]);
    assert.match(html, /<figure><svg[\s\S]*<\/svg><figcaption>toy scores per model<\/figcaption><\/figure>/);
    assert.match(html, /<li>toy · m&#60;1&#62; · score 2<\/li><li>unknown-task · x<\/li>/);
  });

  it("codegen's problem check comes back as structured reasons, naming no flag; the CLI adds the advice", async () => {
    const [p] = (await loadProblems()).filter((q) => (q.wrong_solutions ?? []).length > 0);
    const file = join(await tempDir(), "problems.jsonl");
    await writeFile(file, [p, { ...p, task_id: "bad", canonical_solution: p!.wrong_solutions![0] }].map((x) => JSON.stringify(x)).join("\n") + "\n");
    const values = { seed: 1, n: 1, temperature: [1], k: [1], maxTokens: 16, timeout: 1000, memory: 16, problems: file, check: "strict" };
    const data = await codegenTask.load(codegenTask.settings(values));
    assert.deepEqual(data.contexts, [{ id: p!.task_id }]);
    assert.equal(data.check?.mode, "strict");
    assert.equal(data.check?.total, 2);
    assert.deepEqual(data.check?.failed.map((f) => f.id), ["bad"]);
    assert.match(data.check!.detail, /^problem bad: its canonical_solution fails its own tests/);
    assert.doesNotMatch(data.check!.detail, /--/);
    const r = await task(["codegen", "-m", "sim:e", "--problems", file, "--check", "strict", "--no-save"]);
    assert.ok(r.error instanceof InputError);
    assert.match((r.error as Error).message, /^--check strict: 1 of 2 problems do not hold: problem bad: .*drop --check strict/);
  });
});
