// The store's reader: everything a results directory holds, for ls / export / report / view / analyze / advise —
// the measurements of the store (DIR/ptalign.db, or a registered database), plus result JSON files DIR/runs/<id>.json
// that the store does not know (written by an older ptalign, or kept when the store was damaged).

import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { DamagedStoreError, isDamaged } from "./access.ts";
import { isUrl, openStore } from "./registry.ts";
import { DB_FILE } from "./sqlite.ts";
import { plannedSteps, targetLabelOf } from "../config/recorded.ts";
import type { StoredResult, TaskListing } from "./types.ts";
import type { Result } from "../types.ts";

export interface StoredRun extends StoredResult {
  /** Steps stored / steps planned (runs × steps); planned is null when unknown. */
  progress: { steps: number; planned: number | null };
}

export function assertResultsDir(dir: string): void {
  if (isUrl(dir)) return;
  if (!existsSync(dir)) throw new InputError(`results directory ${dir} does not exist (ptalign run ... --out ${dir} creates it)`);
  if (![DB_FILE, "runs", "tasks"].some((entry) => existsSync(join(dir, entry)))) {
    throw new InputError(`${dir} is not a ptalign results directory (no ${DB_FILE}, runs/ or tasks/)`);
  }
}

export interface LoadOptions {
  withSteps?: boolean;
  /**
   * Called for each measurement the store holds no metrics for (running, or failed part way), with its steps: a
   * higher layer fills in metrics and verdict from the steps so far (src/report/partial.ts), which the store cannot.
   */
  complete?: (run: StoredRun) => void;
}

/** All measurements, oldest first. */
export async function loadStored(dir: string, opts: LoadOptions = {}): Promise<StoredRun[]> {
  const withSteps = opts.withSteps ?? true;
  const out: StoredRun[] = [];
  const known = new Set<string>();
  try {
    const store = await openStore(dir);
    if (store) {
      try {
        for (const rec of await store.listRuns()) {
          known.add(rec.id);
          const full = await store.resultOf(rec, { withSteps });
          const steps = withSteps ? full.runs.reduce((n, r) => n + r.steps.length, 0) : (await store.stepCounts(rec.id)).reduce((a, b) => a + b, 0);
          const planned = plannedSteps(rec.settings);
          const run: StoredRun = { ...full, progress: { steps, planned } };
          if (!run.metrics && withSteps) opts.complete?.(run);
          out.push(run);
        }
      } finally {
        await store.close();
      }
    }
  } catch (err) {
    // A damaged store: say which file and what to do, and read the result JSON files (every finished run has one).
    if (!isDamaged(err) && !(err instanceof DamagedStoreError)) throw err;
    const damaged = err instanceof DamagedStoreError ? err : new DamagedStoreError(join(dir, DB_FILE), err);
    warnOnce(`ptalign: warning: ${damaged.message}; showing the runs of ${join(dir, "runs")}/*.json\n`);
    out.length = 0;
    known.clear();
  }
  if (!isUrl(dir)) out.push(...(await resultFiles(dir, known, withSteps)));
  return out.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id.localeCompare(b.id)));
}

/** Result JSON files of DIR/runs whose measurement the store does not hold. */
export async function resultFiles(dir: string, known: Set<string>, withSteps: boolean): Promise<StoredRun[]> {
  const out: StoredRun[] = [];
  let names: string[] = [];
  try {
    names = await readdir(join(dir, "runs"));
  } catch {
    /* no JSON files */
  }
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const id = name.replace(/(\.partial)?\.json$/, "");
    if (known.has(id)) continue;
    try {
      const r = JSON.parse(await readFile(join(dir, "runs", name), "utf8")) as Result;
      const steps = r.runs.reduce((n, x) => n + x.steps.length, 0);
      const partial = name.endsWith(".partial.json");
      out.push({ ...r, runs: withSteps ? r.runs : [], id, status: partial ? "failed" : "done", error: partial ? "stopped early" : null, created: stampToIso(id), progress: { steps, planned: null } });
      known.add(id);
    } catch {
      /* not a result file */
    }
  }
  return out;
}

/** The downstream task results of a location (id, task, model, created), oldest first. */
export async function loadTaskListing(dir: string): Promise<TaskListing[]> {
  try {
    const store = await openStore(dir);
    try {
      return (await store?.listTaskResults()) ?? [];
    } finally {
      await store?.close();
    }
  } catch (err) {
    // A damaged store (loadStored has said so): the task results' JSON files are the record.
    if (!(err instanceof DamagedStoreError) && !isDamaged(err)) throw err;
    return (await taskFiles(dir)).map((t) => ({ id: t.id, task: t.task, model: t.model, created: stampToIso(t.id) }));
  }
}

/** The task result files DIR/tasks/<id>.json, oldest first (ids sort by time). */
async function taskFiles(dir: string): Promise<{ id: string; task: string; model: string }[]> {
  let files: string[];
  try {
    files = (await readdir(join(dir, "tasks"))).filter((f) => f.endsWith(".json")).sort();
  } catch {
    return [];
  }
  return Promise.all(files.map(async (f) => {
    const t = JSON.parse(await readFile(join(dir, "tasks", f), "utf8")) as { id?: string; task: string; model: string };
    return { id: t.id ?? "", task: t.task, model: t.model };
  }));
}

/** The store's fingerprint for `view` ("empty" without a store, "damaged" when it cannot be read). */
export async function storeVersion(dir: string): Promise<string> {
  try {
    const store = await openStore(dir);
    if (!store) return "empty";
    try {
      return await store.version();
    } finally {
      await store.close();
    }
  } catch (err) {
    // A damaged store: the page shows runs/*.json (loadStored says why on stderr), which do not change under it.
    if (err instanceof DamagedStoreError || isDamaged(err)) return "damaged";
    throw err;
  }
}

const warned = new Set<string>();
/** Forgets the warnings already given: main(argv) calls it, so each CLI call (several in one process in tests) warns again. */
export function forgetWarnings(): void {
  warned.clear();
}
/** `view` reloads every few seconds: the warning goes out once per CLI call. */
function warnOnce(line: string): void {
  if (warned.has(line)) return;
  warned.add(line);
  process.stderr.write(line);
}

/** `20261129-014500-...` → `2026-11-29T01:45:00`: sorts with the store's ISO times. */
export const stampToIso = (id: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` : "";
};

/** Short label of a run's target: the label it was given in a study, else its DIST text. */
export function targetLabel(r: Pick<Result, "target" | "settings">): string {
  const label = targetLabelOf(r.settings);
  if (label !== undefined) return label;
  if (r.target.continuous) return r.target.continuous.dist; // "normal(0,1)", not its hundreds of bins
  return `{${r.target.support.map((a, i) => `${/^[\w.+-]+$/.test(a) ? a : JSON.stringify(a)}:${+r.target.probs[i]!.toFixed(4)}`).join(",")}}`;
}
