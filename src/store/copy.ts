// `ptalign store copy FROM TO`: every measurement and task result of one store into another — a results directory
// into a database, a database into a directory, or any two locations the registry knows — row for row, so that
// every reader (ls, report, export, analyze, ...) prints the same thing from either. Rows are copied as stored
// (times, statuses, errors, JSON text), never recomputed. A measurement of the same id already in TO is replaced
// (a copy made again brings it up to date). A directory written by ptalign before the store (runs/*.json only) is
// copied through its result files.

import { mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import { loadStored } from "./read.ts";
import { isUrl, openStore, shownLocation } from "./registry.ts";
import { exportResult } from "./results.ts";
import type { Result } from "../types.ts";

export interface CopyReport {
  runs: number;
  steps: number;
  tasks: number;
  /** Measurements known only by their result file (runs/*.json of an older directory), imported whole. */
  fromFiles: number;
}

export async function copyStore(from: string, to: string): Promise<CopyReport> {
  const same = isUrl(from) || isUrl(to) ? from === to : resolve(from) === resolve(to);
  if (same) throw new InputError(`store copy: FROM and TO are the same store (${shownLocation(from)})`);
  const source = await openStore(from);
  // Results of a directory that its store does not hold (an older ptalign's runs/*.json): read through the reader.
  const ids = new Set((await source?.listRuns())?.map((r) => r.id) ?? []);
  const files = (await unknownFiles(from, ids)) ? (await loadStored(from)).filter((r) => !ids.has(r.id)) : [];
  if (!source && files.length === 0) {
    throw new InputError(`${shownLocation(from)} holds no ptalign results (nothing to copy)`);
  }
  const target = await openStore(to, { write: true });
  const report: CopyReport = { runs: 0, steps: 0, tasks: 0, fromFiles: 0 };
  try {
    if (source) {
      try {
        for (const rec of await source.listRuns()) {
          const rows = await source.dumpRun(rec.id);
          if (!rows) continue;
          await target.loadRun(rows);
          report.runs++;
          report.steps += rows.steps.length;
          // A directory keeps each finished measurement's result file too (what users and older readers open).
          if (!isUrl(to) && rec.status === "done") await exportResult(target, to, rec.id);
        }
        for (const t of await source.listTaskResults()) {
          const rows = await source.dumpTask(t.id);
          if (!rows) continue;
          await target.loadTask(rows);
          if (!isUrl(to)) await writeTaskFile(to, rows.id, rows.result);
          report.tasks++;
        }
      } finally {
        await source.close();
      }
    }
    for (const r of files) {
      const { status: _s, error: _e, created: _c, progress: _p, ...result } = r;
      await target.putResult(result as Result & { id: string });
      report.runs++;
      report.fromFiles++;
      report.steps += r.runs.reduce((n, x) => n + x.steps.length, 0);
    }
  } finally {
    await target.close();
  }
  return report;
}

/** DIR/tasks/<id>.json as `ptalign task` writes it (the stored JSON text and a newline), atomically. */
async function writeTaskFile(dir: string, id: string, json: string): Promise<void> {
  const tasksDir = join(dir, "tasks");
  await mkdir(tasksDir, { recursive: true });
  const file = join(tasksDir, `${id}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, json + "\n");
  await rename(tmp, file);
}

/** Whether DIR/runs holds a result file of a measurement the store does not know (read only then: it costs a full read). */
async function unknownFiles(dir: string, ids: ReadonlySet<string>): Promise<boolean> {
  if (isUrl(dir)) return false;
  const names = await readdir(join(dir, "runs")).catch(() => [] as string[]);
  return names.some((n) => n.endsWith(".json") && !ids.has(n.replace(/(\.partial)?\.json$/, "")));
}
