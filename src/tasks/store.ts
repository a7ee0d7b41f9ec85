// Task results are kept next to the sampling runs: DIR/tasks/<id>.json (written atomically) and a row of the SQLite
// store's task_results table (listed by `ls`, noticed by `view`); the report reads them through loadTaskResults.

import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { withStore } from "../store/registry.ts";
import { writeAtomically } from "../store/atomic.ts";
import { newRunId } from "../store/results.ts";
import type { TaskResult } from "../types/task.ts";

// Open: every task's result extends the base (src/types/task.ts), so a new task needs no edit here.
export type { TaskResult };

export async function saveTaskResult(dir: string, result: TaskResult): Promise<string> {
  result.id ??= newRunId(`${result.task}-${result.model}`);
  const tasksDir = join(dir, "tasks");
  await mkdir(tasksDir, { recursive: true });
  const file = join(tasksDir, `${result.id}.json`);
  await writeAtomically(file, JSON.stringify(result) + "\n");
  const record = { ...result, id: result.id };
  await withStore(dir, (store) => store.putTaskResult(record));
  return file;
}

/** Every task result under DIR/tasks, oldest first (ids sort by time). */
export async function loadTaskResults(dir: string): Promise<TaskResult[]> {
  let files: string[];
  try {
    files = (await readdir(join(dir, "tasks"))).filter((f) => f.endsWith(".json")).sort();
  } catch {
    return [];
  }
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, "tasks", f), "utf8")) as TaskResult));
}
