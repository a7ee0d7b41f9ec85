// Step-by-step recording of one measurement into the store: every step is written when it is computed, so a crash
// loses at most the step in flight; `finish` completes the measurement (metrics, verdict, the result's other fields)
// without writing any step again, then writes DIR/runs/<id>.json as an export of the store.
// The step listener returns a promise; it is correct whether the protocol awaits it or not: writes not awaited are
// kept, and the first failure among them is thrown by the next `settle` / `finish`.

import type { ProtocolName, RecordedSettings, Result, Run, Step, Target } from "../types.ts";
import { openStore } from "./registry.ts";
import { exportResult } from "./results.ts";
import { dropLease, keepRenewed, leaseMsOf, newLease } from "./lease.ts";
import { interruptedError } from "./status.ts";
import type { ResultStore } from "./types.ts";

/** Writes the steps of one measurement, tracking the writes a caller did not await. */
export interface StepWriter {
  write(runIndex: number, seed: number, step: Step): Promise<void>;
  /** Waits for every write so far; throws the first that failed. */
  settle(): Promise<void>;
}

export function stepWriter(store: ResultStore, id: string): StepWriter {
  const pending = new Set<Promise<void>>();
  let failed: { error: unknown } | undefined;
  return {
    write(runIndex, seed, step) {
      const p = store.addStep(id, runIndex, seed, step).catch((error: unknown) => {
        failed ??= { error };
        throw error;
      });
      pending.add(p);
      // Not awaited by the caller: never an unhandled rejection (settle reports it).
      p.then(() => pending.delete(p), () => pending.delete(p));
      return p;
    },
    async settle() {
      await Promise.allSettled([...pending]);
      if (failed) throw failed.error;
    },
  };
}

export interface Recorder {
  /** The id the measurement is stored under: the one asked for, or the resumed measurement's. */
  readonly id: string;
  /** Whether this continues an interrupted measurement (same key, see RecordResume). */
  readonly resumed: boolean;
  /** Runs finished by an earlier, interrupted attempt (by run index): kept, not measured again. */
  readonly kept: ReadonlyMap<number, Run>;
  onStep(runIndex: number, step: Step, run: Run): Promise<void>;
  /** Completes the measurement with its result; returns DIR/runs/<id>.json (written from the store). */
  finish(result: Result & { id: string }): Promise<string | undefined>;
  /**
   * Marks the measurement failed (one line). With `partial` (the steps kept, summarised), it is recorded as stopped
   * early and exported to DIR/runs/<id>.partial.json, whose path is returned.
   */
  fail(message: string, partial?: Result & { id: string }): Promise<string | undefined>;
  /**
   * Marks the measurement interrupted (Ctrl-C, a full disk): its steps stay, the same command resumes it. Best effort
   * — on a full disk even this mark may not fit; a rerun then finds it running with nobody holding its claim, and
   * resumes it all the same. Returns DIR/runs/<id>.partial.json when that could be written.
   */
  interrupt(why: string, partial?: Result & { id: string }): Promise<string | undefined>;
  /** Gives the claim back and closes the store. Never throws (it runs on the way out of a failure). */
  close(): Promise<void>;
}

export interface RecordedRun {
  id: string;
  model: string;
  protocol: ProtocolName;
  target: Target;
  settings: RecordedSettings;
}

/**
 * The prefix of a single measurement's key (record.ts measurementKey), stored as its cell. A study cell's hash is
 * 16 hex digits, never this: readers that group study cells (merge) tell the two apart with isRunKey.
 */
export const RUN_KEY_PREFIX = "run-";
export const isRunKey = (cell: string | null | undefined): boolean => cell?.startsWith(RUN_KEY_PREFIX) === true;

export interface RecordResume {
  /**
   * What identifies the measurement (record.ts measurementKey), stored as its cell: a measurement with this key that
   * was interrupted, or left running by a process that is gone, is resumed instead of starting a new one.
   */
  key: string;
  /** Steps of a complete run: a run that reaches it is recorded complete (kept by a later resume). */
  steps: number;
}

const NOOP: Recorder = { id: "", resumed: false, kept: new Map(), onStep: async () => {}, finish: async () => undefined, fail: async () => undefined, interrupt: async () => undefined, close: async () => {} };

const quietly = async (work: () => Promise<unknown>): Promise<void> => {
  try {
    await work();
  } catch {
    /* on the way out of a failure (a full disk): what could be written was */
  }
};

/** A recorder into the store at `location` (a results directory); without a location nothing is recorded. */
export async function openRecorder(location: string | undefined, run: RecordedRun, resume?: RecordResume): Promise<Recorder> {
  if (location === undefined) return { ...NOOP, id: run.id };
  const lease = newLease(leaseMsOf(undefined)); // a bad PTALIGN_LEASE_SECONDS before the store is opened
  const store = await openStore(location, { write: true });
  let id = run.id;
  let claimed = false;
  let resumed = false;
  let stopRenewal = () => {};
  const kept = new Map<number, Run>();
  try {
    // The claim proves nobody else measures this key now (a second process with the same flags starts its own).
    if (resume && (claimed = (await store.claimNext([resume.key], lease)) !== undefined)) {
      stopRenewal = keepRenewed(store, resume.key, lease);
      const rec = await store.findCell(resume.key);
      if (rec && (rec.status === "interrupted" || rec.status === "running")) {
        id = rec.id;
        resumed = true;
        const parts = await store.finishedParts(id);
        (await store.runsOf(id)).forEach((r, i) => {
          if (parts.has(i)) kept.set(i, r);
        });
      }
    }
    await store.beginRun({ ...run, id, cell: resume?.key ?? null });
  } catch (err) {
    stopRenewal();
    if (claimed) await quietly(() => store.releaseCell(resume!.key, lease.owner));
    dropLease(lease);
    await quietly(() => store.close());
    throw err;
  }
  const steps = stepWriter(store, id);
  let closed = false;
  return {
    id,
    resumed,
    kept,
    onStep(r, step, current) {
      const written = steps.write(r, current.seed, step);
      if (!resume || step.t !== resume.steps - 1) return written;
      // A complete run is recorded so: a resume after an interruption keeps it. (Not awaited by the caller: never an
      // unhandled rejection; a protocol that awaits gets the failure.)
      const done = written.then(() => store.finishPart(id, r, current.seed, current.steps.length));
      done.catch(() => {});
      return done;
    },
    async finish(result) {
      await steps.settle();
      await store.finishRun(id, result);
      return exportResult(store, location, id);
    },
    async fail(message, partial) {
      if (closed) return undefined;
      await steps.settle().catch(() => {});
      if (partial) {
        await store.failRun(id, "stopped early", partial);
        return exportResult(store, location, id, { partial: true, summary: partial });
      }
      if ((await store.getRun(id))?.status === "running") await store.failRun(id, message.split("\n")[0]!);
      return undefined;
    },
    async interrupt(why, partial) {
      if (closed) return undefined;
      await steps.settle().catch(() => {});
      await quietly(() => store.failRun(id, interruptedError(why), partial));
      if (!partial) return undefined;
      try {
        return await exportResult(store, location, id, { partial: true, summary: partial });
      } catch {
        return undefined;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      stopRenewal();
      if (claimed) await quietly(() => store.releaseCell(resume!.key, lease.owner));
      dropLease(lease);
      await quietly(() => store.close());
    },
  };
}
