// Everything a results directory holds, for ls / export / report / view: the runs of the store DIR/ptalign.db, plus
// result JSON files DIR/runs/<id>.json that the store does not know (written by an older ptalign).

import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { summarise } from "../run.ts";
import { InputError } from "../errors.ts";
import { DB_FILE, recordToResult, Store, type RunStatus } from "../store/db.ts";
import { DamagedStoreError, isDamaged } from "../store/access.ts";
import type { Result } from "../types.ts";

export interface StoredRun extends Result {
  id: string;
  status: RunStatus;
  error: string | null;
  created: string;
  /** Steps stored / steps planned (runs × steps); planned is null when unknown. */
  progress: { steps: number; planned: number | null };
}

export function assertResultsDir(dir: string): void {
  if (!existsSync(dir)) throw new InputError(`results directory ${dir} does not exist (ptalign run ... --out ${dir} creates it)`);
  if (!["ptalign.db", "runs", "tasks"].some((entry) => existsSync(join(dir, entry)))) {
    throw new InputError(`${dir} is not a ptalign results directory (no ptalign.db, runs/ or tasks/)`);
  }
}

/**
 * All runs, oldest first. Runs still in progress (or failed part way) get metrics and verdict computed from the steps
 * stored so far when there are enough of them; otherwise those stay null.
 */
export async function loadStored(dir: string, opts: { withSteps?: boolean } = {}): Promise<StoredRun[]> {
  const withSteps = opts.withSteps ?? true;
  const out: StoredRun[] = [];
  const known = new Set<string>();
  try {
    const store = Store.openExisting(dir);
    if (store) {
      try {
        for (const rec of store.listRuns()) {
          known.add(rec.id);
          const full = withSteps ? recordToResult(store, rec) : { ...recordToResult(store, rec), runs: [] };
          const steps = withSteps ? full.runs.reduce((n, r) => n + r.steps.length, 0) : store.stepCounts(rec.id).reduce((a, b) => a + b, 0);
          const planned = typeof rec.settings.steps === "number" && typeof rec.settings.runs === "number" ? rec.settings.steps * rec.settings.runs : null;
          const run: StoredRun = { ...full, created: rec.created, progress: { steps, planned } };
          if (!run.metrics && withSteps) fillPartial(run);
          out.push(run);
        }
      } finally {
        store.close();
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
  return out.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id.localeCompare(b.id)));
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

function fillPartial(run: StoredRun): void {
  // While a study runs, the runs with at least two steps so far (volatility needs two).
  const runs = run.runs.filter((r) => r.steps.length >= 2);
  if (runs.length === 0) return;
  try {
    const s = summarise(run.model, run.protocol, run.target, runs, run.settings ?? {}, undefined, Number(run.settings?.seed ?? 0));
    run.metrics = s.metrics;
    run.verdict = s.verdict;
  } catch {
    /* not enough to summarise yet */
  }
}

/** Short label of a run's target: the label it was given in a study, else its DIST text. */
export function targetLabel(r: Pick<Result, "target" | "settings">): string {
  const label = r.settings?.target_label;
  if (typeof label === "string") return label;
  if (r.target.continuous) return r.target.continuous.dist; // "normal(0,1)", not its hundreds of bins
  return `{${r.target.support.map((a, i) => `${/^[\w.+-]+$/.test(a) ? a : JSON.stringify(a)}:${+r.target.probs[i]!.toFixed(4)}`).join(",")}}`;
}
