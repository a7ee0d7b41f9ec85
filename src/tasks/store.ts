// Task results are kept next to the sampling runs: DIR/tasks/<id>.json (written atomically) and a row of the SQLite
// store's task_results table (listed by `ls`, noticed by `view`); the report reads them through loadTaskResults.

import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isUrl, openStore, shownLocation, withStore } from "../store/registry.ts";
import { writeAtomically } from "../store/atomic.ts";
import { newRunId } from "../store/results.ts";
import type { TaskResult } from "../types/task.ts";

// Open: every task's result extends the base (src/types/task.ts), so a new task needs no edit here.
export type { TaskResult };

export async function saveTaskResult(dir: string, result: TaskResult): Promise<string> {
  result.id ??= newRunId(`${result.task}-${result.model}`);
  if (isUrl(dir)) {
    // A database: the store is the only copy (there is no directory for the file).
    await withStore(dir, (store) => store.putTaskResult({ ...result, id: result.id! }));
    return `${shownLocation(dir)} (task ${result.id})`;
  }
  const tasksDir = join(dir, "tasks");
  await mkdir(tasksDir, { recursive: true });
  const file = join(tasksDir, `${result.id}.json`);
  await writeAtomically(file, JSON.stringify(result) + "\n");
  const record = { ...result, id: result.id };
  await withStore(dir, (store) => store.putTaskResult(record));
  return file;
}

/** Every task result under DIR/tasks (or, for a database, in its store), oldest first (ids sort by time). */
export async function loadTaskResults(dir: string): Promise<TaskResult[]> {
  if (isUrl(dir)) {
    const store = await openStore(dir);
    if (!store) return [];
    try {
      const out: TaskResult[] = [];
      const file = (id: string) => `${id}.json`; // the order of the files DIR/tasks/<id>.json
      for (const t of (await store.listTaskResults()).sort((a, b) => (file(a.id) < file(b.id) ? -1 : file(a.id) > file(b.id) ? 1 : 0))) {
        const r = await store.getTaskResult(t.id);
        if (r) out.push(r as TaskResult);
      }
      return out;
    } finally {
      await store.close();
    }
  }
  let files: string[];
  try {
    files = (await readdir(join(dir, "tasks"))).filter((f) => f.endsWith(".json")).sort();
  } catch {
    return [];
  }
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, "tasks", f), "utf8")) as TaskResult));
}
