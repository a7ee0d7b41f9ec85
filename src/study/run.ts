// Runs a study cell by cell into the store DIR/ptalign.db, resuming what an earlier invocation left:
// a finished cell is skipped; in an unfinished one, runs recorded complete are kept and the others are computed again
// from their start (their seed is seed + r, so the recomputed steps are the same; the store's primary key keeps one
// copy of each). A cell that fails (model missing, server down, context overflow) is recorded as failed and the
// study goes on with the next.

import { closeModel, openModel, type Model } from "../backends/index.ts";
import { runSeed } from "../protocols/index.ts";
import { collectRuns, summarise } from "../run.ts";
import { stepWriter } from "../store/recorder.ts";
import { openStore } from "../store/registry.ts";
import { exportResult, newRunId } from "../store/results.ts";
import type { ResultStore } from "../store/types.ts";
import type { RecordedSettings, Result, Run } from "../types.ts";
import { cellSettings, cellsOf, type Cell } from "./matrix.ts";
import { modelOptionsOf, runSettingsOf } from "../config/build.ts";
import type { Study } from "./spec.ts";
import { cellsOfShard, type Shard } from "./shard.ts";

export type CellStatus = "done" | "skipped" | "failed";

export interface CellOutcome {
  cell: Cell;
  id: string;
  /** done: measured now; skipped: already finished in the store; failed: see error. */
  status: CellStatus;
  error?: string;
  result?: Result;
  /** Runs that were taken from the store instead of being computed (resumed cells). */
  kept?: number;
}

export interface StudyHooks {
  /** Steps still to compute, before the first one. */
  onPlan?(steps: number): void;
  onCellStart?(cell: Cell): void;
  onStep?(cell: Cell): void;
  onCellEnd?(outcome: CellOutcome): void;
  /** Cells another process is measuring: waited for after the others (then taken as stored, or measured here). */
  onWait?(cells: number): void;
}

export interface StudyOptions {
  /** Only this part of the cells (--shard i/n, study/shard.ts). */
  shard?: Shard;
}

/** What the store already holds for each cell (of the shard): finished, or how many of its runs are complete. */
export async function planOf(study: Study, store: ResultStore | undefined, opts: StudyOptions = {}): Promise<{ cell: Cell; state: "todo" | "done" | "partial"; keptRuns: number }[]> {
  const plan: { cell: Cell; state: "todo" | "done" | "partial"; keptRuns: number }[] = [];
  for (const cell of cellsOfShard(cellsOf(study), opts.shard)) {
    const rec = await store?.findCell(cell.hash);
    if (!rec || !store) plan.push({ cell, state: "todo", keptRuns: 0 });
    else if (rec.status === "done") plan.push({ cell, state: "done", keptRuns: cell.runs });
    else {
      const kept = [...(await store.finishedParts(rec.id))].filter((r) => r < cell.runs).length;
      plan.push({ cell, state: kept > 0 || (await store.stepCounts(rec.id)).some((n) => n > 0) ? "partial" : "todo", keptRuns: kept });
    }
  }
  return plan;
}

export async function runStudy(study: Study, out: string, hooks: StudyHooks = {}, opts: StudyOptions = {}): Promise<CellOutcome[]> {
  const store = await openStore(out, { write: true });
  try {
    const plan = await planOf(study, store, opts);
    hooks.onPlan?.(plan.reduce((n, p) => n + (p.state === "done" ? 0 : (p.cell.runs - p.keptRuns) * p.cell.steps), 0));
    const outcomes: CellOutcome[] = [];
    const byModel = new Map<string, Cell[]>();
    for (const p of plan) byModel.set(p.cell.model.spec, [...(byModel.get(p.cell.model.spec) ?? []), p.cell]);

    // Cells another live process is measuring (the same study started twice) are put off, then waited for: taken
    // as stored once that process finishes them, measured here only if it failed or died.
    const deferred: Cell[] = [];
    await measureCells(store, study, out, hooks, byModel, outcomes, (cell) => (deferred.push(cell), false));
    if (deferred.length > 0) {
      hooks.onWait?.(deferred.length);
      const again = new Map<string, Cell[]>();
      for (const cell of deferred) again.set(cell.model.spec, [...(again.get(cell.model.spec) ?? []), cell]);
      await measureCells(store, study, out, hooks, again, outcomes, undefined);
    }
    return outcomes.sort((a, b) => a.cell.index - b.cell.index);
  } finally {
    await store.close();
  }
}

const CLAIM_POLL_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Measures the cells model by model. A cell claimed by another live process goes to `busy` (which returns false to
 * put it off); without `busy` this waits for the claim, then takes the cell as stored if the other process finished it.
 */
async function measureCells(store: ResultStore, study: Study, out: string, hooks: StudyHooks, byModel: Map<string, Cell[]>, outcomes: CellOutcome[], busy: ((cell: Cell) => boolean) | undefined): Promise<void> {
  const storedOutcome = async (cell: Cell): Promise<boolean> => {
    const rec = await store.findCell(cell.hash);
    if (rec?.status !== "done") return false;
    const { status: _s, error: _e, created: _c, ...stored } = await store.resultOf(rec);
    // A done measurement has its metrics and verdict stored.
    const outcome: CellOutcome = { cell, id: rec.id, status: "skipped", result: { ...stored, metrics: stored.metrics!, verdict: stored.verdict! } };
    outcomes.push(outcome);
    hooks.onCellEnd?.(outcome);
    return true;
  };
  for (const cells of byModel.values()) {
    let model: Model | undefined;
    let openError: string | undefined;
    try {
      for (const cell of cells) {
        if (await storedOutcome(cell)) continue;
        let claimed = await store.claimCell(cell.hash);
        if (!claimed && busy) {
          busy(cell);
          continue;
        }
        while (!claimed) {
          await sleep(CLAIM_POLL_MS);
          claimed = await store.claimCell(cell.hash);
        }
        try {
          // The claim is ours: the cell may have been finished by its previous owner meanwhile.
          if (await storedOutcome(cell)) continue;
          const rec = await store.findCell(cell.hash);
          const id = rec?.id ?? newRunId(cell.model.spec);
          const settings = cellSettings(study, cell);
          await store.beginRun({ id, cell: cell.hash, study: study.file, model: cell.model.spec, protocol: cell.protocol, target: cell.target.dist, settings });
          hooks.onCellStart?.(cell);
          if (!model && openError === undefined) {
            try {
              model = await openModel(cell.model.path, modelOptionsOf(study.config));
            } catch (err) {
              openError = oneLine(err);
            }
          }
          if (!model) {
            await store.failRun(id, openError!);
            const outcome: CellOutcome = { cell, id, status: "failed", error: openError };
            outcomes.push(outcome);
            hooks.onCellEnd?.(outcome);
            continue;
          }
          const outcome = await runCell(store, study, cell, id, settings, model, hooks, out);
          outcomes.push(outcome);
          hooks.onCellEnd?.(outcome);
        } finally {
          await store.releaseCell(cell.hash);
        }
      }
    } finally {
      if (model) await closeModel(model);
    }
  }
}

async function runCell(store: ResultStore, study: Study, cell: Cell, id: string, settings: RecordedSettings, model: Model, hooks: StudyHooks, out: string): Promise<CellOutcome> {
  const done = await store.finishedParts(id);
  const steps = stepWriter(store, id);
  let extra: Record<string, unknown> = {};
  try {
    for (let r = 0; r < cell.runs; r++) {
      if (done.has(r)) continue;
      // Run r alone, with its own seed: exactly the run r of an uninterrupted measurement.
      const seed = runSeed(cell.seed, r);
      const runs: Run[] = [];
      const measured = await collectRuns(
        {
          model: cell.model.spec,
          target: cell.target.dist,
          protocol: cell.protocol,
          settings: { ...runSettingsOf(cell.config), runs: 1, seed },
          template: cell.template,
          runs,
          onStep: (_i, step) => {
            hooks.onStep?.(cell);
            return steps.write(r, seed, step);
          },
        },
        model,
      );
      await steps.settle();
      // The run's own fields (a batch run's `stopped`) are kept with the part, for a later resume too.
      const { steps: _steps, seed: _seed, ...fields } = runs[0] ?? { steps: [], seed };
      await store.finishPart(id, r, seed, runs[0]?.steps.length ?? 0, fields);
      const { prompt, chat_template, model_spec } = measured.settings ?? {};
      extra = { ...extra, ...(prompt !== undefined ? { prompt, chat_template } : {}), ...(model_spec !== undefined ? { model_spec } : {}) };
    }
    const final = { ...settings, ...extra };
    // The runs as stored, every step field included (a top-k cell keeps `outside`, so its bound names the server).
    const result = summarise(cell.model.spec, cell.protocol, cell.target.dist, await store.runsOf(id), final, undefined, cell.seed);
    result.id = id;
    await store.finishRun(id, result);
    await exportResult(store, out, id);
    return { cell, id, status: "done", result, kept: done.size };
  } catch (err) {
    const error = oneLine(err);
    await steps.settle().catch(() => {});
    await store.failRun(id, error);
    return { cell, id, status: "failed", error };
  }
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
