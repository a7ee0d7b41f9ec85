// Runs a study cell by cell into a store (DIR/ptalign.db or a database), resuming what an earlier invocation left:
// a finished cell is skipped; in an unfinished one, runs recorded complete are kept and the others are computed again
// from their start (their seed is seed + r, so the recomputed steps are the same; the store's primary key keeps one
// copy of each). A cell that fails (model missing, server down, context overflow) is recorded as failed and the
// study goes on with the next.

import { inStudyWords } from "./words.ts";
import { closeModel, openModel, type Model } from "../backends/index.ts";
import { runSeed } from "../protocols/index.ts";
import { collectRuns, summarise } from "../run.ts";
import { stepWriter } from "../store/recorder.ts";
import { openStore, shownLocation } from "../store/registry.ts";
import { dropLease, keepRenewed, leaseMsOf, newLease } from "../store/lease.ts";
import { exportResult, newRunId } from "../store/results.ts";
import type { Lease, ResultStore, RunRecord } from "../store/types.ts";
import type { RecordedSettings, Result, Run } from "../types.ts";
import { cellSettings, cellsOf, type Cell } from "./matrix.ts";
import { modelOptionsOf, runSettingsOf } from "../config/build.ts";
import type { Study } from "./spec.ts";
import { checkInterrupted, DiskFull, Interrupted, isDiskFull } from "../errors.ts";
import { interruptedError } from "../store/status.ts";
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
  /**
   * Stops the study at the next step (Ctrl-C): the cell in progress is recorded interrupted with its steps, its claim
   * given back, and runStudy throws Interrupted; the same command resumes it (finished runs are kept).
   */
  signal?: AbortSignal;
}

export interface StudyOptions {
  /** Only this part of the cells (--shard i/n, study/shard.ts). */
  shard?: Shard;
}

/** What the store already holds for each cell (of the shard): finished, or how many of its runs are complete. */
export async function planOf(study: Study, store: ResultStore | undefined, opts: StudyOptions = {}): Promise<{ cell: Cell; state: "todo" | "done" | "partial"; keptRuns: number }[]> {
  const plan: { cell: Cell; state: "todo" | "done" | "partial"; keptRuns: number }[] = [];
  const latest = store ? await latestByCell(store) : new Map<string, RunRecord>();
  for (const cell of cellsOfShard(cellsOf(study), opts.shard)) {
    const rec = latest.get(cell.hash);
    if (!rec || !store) plan.push({ cell, state: "todo", keptRuns: 0 });
    else if (rec.status === "done") plan.push({ cell, state: "done", keptRuns: cell.runs });
    else {
      const kept = [...(await store.finishedParts(rec.id))].filter((r) => r < cell.runs).length;
      plan.push({ cell, state: kept > 0 || (await store.stepCounts(rec.id)).some((n) => n > 0) ? "partial" : "todo", keptRuns: kept });
    }
  }
  return plan;
}

/**
 * The most recent measurement of each cell (what findCell gives, for all cells in one read: a study of thousands of
 * cells on a networked database is not thousands of round trips).
 */
async function latestByCell(store: ResultStore): Promise<Map<string, RunRecord>> {
  const latest = new Map<string, RunRecord>();
  // listRuns is oldest first (created, then id): the last one seen per cell is the most recent.
  for (const rec of await store.listRuns()) if (rec.cell !== null) latest.set(rec.cell, rec);
  return latest;
}

/**
 * Runs a study into the store at `out`, as one of any number of workers (processes, on any machines) running the
 * same study into the same store: each cell is claimed with a lease before it is measured, so no two workers
 * measure it at once. Cells are taken model by model (a model opened once for its cells); cells other workers hold
 * are waited for at the end, taken as stored when they finish them, and taken over when a worker's lease lapses
 * (killed, machine lost) — resumed from its recorded run parts.
 */
export async function runStudy(study: Study, out: string, hooks: StudyHooks = {}, opts: StudyOptions = {}): Promise<CellOutcome[]> {
  const lease = newLease(leaseMsOf(study.leaseSeconds)); // a bad PTALIGN_LEASE_SECONDS before anything is created
  const store = await openStore(out, { write: true });
  const worker = new Worker(store, study, out, hooks, lease);
  try {
    const plan = await planOf(study, store, opts);
    hooks.onPlan?.(plan.reduce((n, p) => n + (p.state === "done" ? 0 : (p.cell.runs - p.keptRuns) * p.cell.steps), 0));
    for (const p of plan) worker.pending.set(p.cell.hash, p.cell);
    await worker.takeStored(plan.filter((p) => p.state === "done").map((p) => p.cell));

    const byModel = new Map<string, Cell[]>();
    for (const p of plan) byModel.set(p.cell.model.spec, [...(byModel.get(p.cell.model.spec) ?? []), p.cell]);
    try {
      for (const cells of byModel.values()) {
        for (;;) {
          checkInterrupted(hooks.signal);
          const left = cells.filter((c) => worker.pending.has(c.hash));
          const hash = left.length > 0 ? await store.claimNext(left.map((c) => c.hash), worker.lease) : undefined;
          if (hash === undefined) break;
          await worker.measure(worker.pending.get(hash)!);
        }
      }

      // Cells other workers hold: taken as stored once they finish them, measured here if they fail or their lease lapses.
      await worker.takeStored([...worker.pending.values()]);
      if (worker.pending.size > 0) hooks.onWait?.(worker.pending.size);
      const poll = Math.max(100, Math.min(1000, worker.lease.ms / 4));
      while (worker.pending.size > 0) {
        checkInterrupted(hooks.signal);
        const hash = await store.claimNext([...worker.pending.keys()], worker.lease);
        if (hash !== undefined) await worker.measure(worker.pending.get(hash)!);
        else {
          await sleep(poll);
          await worker.takeStored([...worker.pending.values()]);
        }
      }
    } catch (err) {
      // Stopped from outside: say what is kept and how to go on (the cells finished so far are stored).
      const finished = worker.outcomes.filter((o) => o.status !== "failed").length;
      const kept = `${finished} of ${plan.length} cells are finished in ${shownLocation(out)}, the cell in progress keeps its steps`;
      if (err instanceof Interrupted) throw new Interrupted(err.signal, `interrupted (${err.signal}): ${kept}; run the same command again to resume`);
      if (isDiskFull(err)) throw new DiskFull(`no space left on the device while writing the results in ${shownLocation(out)}: ${kept}; free some space (or move it to a larger disk), then run the same command again to resume`);
      throw err;
    }
    return worker.outcomes.sort((a, b) => a.cell.index - b.cell.index);
  } finally {
    dropLease(lease);
    await worker.closeModel();
    await store.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our lease on the cell lapsed and another worker took it over: that worker finishes it; this one stops. */
class LeaseLost extends Error {}

/** One worker's state: the cells it has no outcome for yet, its lease, the model it has open. */
class Worker {
  readonly pending = new Map<string, Cell>();
  readonly outcomes: CellOutcome[] = [];
  private model: { spec: string; model?: Model } | undefined;
  private readonly openErrors = new Map<string, string>();

  constructor(private readonly store: ResultStore, private readonly study: Study, private readonly out: string, private readonly hooks: StudyHooks, readonly lease: Lease) {}

  private settle(outcome: CellOutcome): void {
    this.pending.delete(outcome.cell.hash);
    this.outcomes.push(outcome);
    this.hooks.onCellEnd?.(outcome);
  }

  /** The cells among `cells` that some worker has finished: their outcome is the stored result. */
  async takeStored(cells: readonly Cell[]): Promise<void> {
    if (cells.length === 0) return;
    const latest = await latestByCell(this.store);
    for (const cell of cells) await this.storedOutcome(cell, latest.get(cell.hash));
  }

  private async storedOutcome(cell: Cell, rec: RunRecord | undefined): Promise<boolean> {
    if (rec?.status !== "done") return false;
    const { status: _s, error: _e, created: _c, ...stored } = await this.store.resultOf(rec);
    // A done measurement has its metrics and verdict stored.
    this.settle({ cell, id: rec.id, status: "skipped", result: { ...stored, metrics: stored.metrics!, verdict: stored.verdict! } });
    return true;
  }

  /** Measures a cell this worker has just claimed, renewing the lease while it runs and releasing it after. */
  async measure(cell: Cell): Promise<void> {
    let lost = false;
    const stopRenewal = keepRenewed(this.store, cell.hash, this.lease, () => (lost = true));
    try {
      // The claim is ours: the cell may have been finished by its previous owner meanwhile.
      const rec = await this.store.findCell(cell.hash);
      if (await this.storedOutcome(cell, rec)) return;
      const id = rec?.id ?? newRunId(cell.model.spec);
      const settings = cellSettings(this.study, cell);
      await this.store.beginRun({ id, cell: cell.hash, study: this.study.file, model: cell.model.spec, protocol: cell.protocol, target: cell.target.dist, settings });
      this.hooks.onCellStart?.(cell);
      const model = await this.open(cell.model);
      if (typeof model === "string") {
        await this.store.failRun(id, model);
        this.settle({ cell, id, status: "failed", error: model });
        return;
      }
      this.settle(await runCell(this.store, this.study, cell, id, settings, model, this.hooks, this.out, () => lost, this.lease));
    } catch (err) {
      if (!(err instanceof LeaseLost)) throw err;
      // Left pending: the worker that took it over finishes it (or its lease lapses too and it comes back here).
    } finally {
      stopRenewal();
      await this.store.releaseCell(cell.hash, this.lease.owner);
    }
  }

  /** The cell's model, opened once while its cells run (a failure to open is remembered: its one-line reason). */
  private async open(m: Cell["model"]): Promise<Model | string> {
    const known = this.openErrors.get(m.spec);
    if (known !== undefined) return known;
    if (this.model?.spec === m.spec && this.model.model) return this.model.model;
    await this.closeModel();
    try {
      this.model = { spec: m.spec, model: await openModel(m.path, modelOptionsOf(this.study.config)) };
      return this.model.model!;
    } catch (err) {
      this.openErrors.set(m.spec, oneLine(err));
      return oneLine(err);
    }
  }

  async closeModel(): Promise<void> {
    const open = this.model?.model;
    this.model = undefined;
    if (open) await closeModel(open);
  }
}

async function runCell(store: ResultStore, study: Study, cell: Cell, id: string, settings: RecordedSettings, model: Model, hooks: StudyHooks, out: string, lost: () => boolean, lease: Lease): Promise<CellOutcome> {
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
          signal: hooks.signal,
          onStep: (_i, step) => {
            if (lost()) throw new LeaseLost(`lost the lease on cell ${cell.hash}`);
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
    // The cell is finished by the one who holds its lease. A worker stalled past its lease (a starved process on a
    // loaded machine: the renewal timer could not fire) while another took the cell over would otherwise finish it
    // too, and both would report it measured. Renewing here fences that: once renewed, nobody can take the cell over
    // for a whole lease, far longer than the few writes that finish it.
    if (lost() || !(await store.renewCell(cell.hash, lease))) throw new LeaseLost(`lost the lease on cell ${cell.hash}`);
    const final = { ...settings, ...extra };
    // The runs as stored, every step field included (a top-k cell keeps `outside`, so its bound names the server).
    const result = summarise(cell.model.spec, cell.protocol, cell.target.dist, await store.runsOf(id), final, undefined, cell.seed);
    result.id = id;
    await store.finishRun(id, result);
    await exportResult(store, out, id);
    return { cell, id, status: "done", result, kept: done.size };
  } catch (err) {
    await steps.settle().catch(() => {});
    if (err instanceof LeaseLost) throw err; // the cell is another worker's now: its record is not ours to mark
    if (err instanceof Interrupted || isDiskFull(err)) {
      // Not the cell's failure: recorded interrupted (best effort on a full disk), and the study stops here.
      const why = err instanceof Interrupted ? err.signal : "no space left on the device";
      await store.failRun(id, interruptedError(why)).catch(() => {});
      throw err;
    }
    const error = oneLine(err);
    await store.failRun(id, error);
    return { cell, id, status: "failed", error };
  }
}

// Advice about flags is given in the study file's keys (words.ts): a study takes no --context-size.
const oneLine = (err: unknown) => inStudyWords((err instanceof Error ? err.message : String(err)).split("\n")[0]!);
