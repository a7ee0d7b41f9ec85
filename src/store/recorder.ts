// Step-by-step recording of one measurement into the store: every step is written when it is computed, so a crash
// loses at most the step in flight; `finish` completes the measurement (metrics, verdict, the result's other fields)
// without writing any step again, then writes DIR/runs/<id>.json as an export of the store.
// The step listener returns a promise; it is correct whether the protocol awaits it or not: writes not awaited are
// kept, and the first failure among them is thrown by the next `settle` / `finish`.

import type { ProtocolName, RecordedSettings, Result, Run, Step, Target } from "../types.ts";
import { openStore } from "./registry.ts";
import { exportResult } from "./results.ts";
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
  onStep(runIndex: number, step: Step, run: Run): Promise<void>;
  /** Completes the measurement with its result; returns DIR/runs/<id>.json (written from the store). */
  finish(result: Result & { id: string }): Promise<string | undefined>;
  /**
   * Marks the measurement failed (one line). With `partial` (the steps kept, summarised), it is recorded as stopped
   * early and exported to DIR/runs/<id>.partial.json, whose path is returned.
   */
  fail(message: string, partial?: Result & { id: string }): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface RecordedRun {
  id: string;
  model: string;
  protocol: ProtocolName;
  target: Target;
  settings: RecordedSettings;
}

const NOOP: Recorder = { onStep: async () => {}, finish: async () => undefined, fail: async () => undefined, close: async () => {} };

/** A recorder into the store at `location` (a results directory); without a location nothing is recorded. */
export async function openRecorder(location: string | undefined, run: RecordedRun): Promise<Recorder> {
  if (location === undefined) return NOOP;
  const store = await openStore(location, { write: true });
  await store.beginRun(run);
  const steps = stepWriter(store, run.id);
  let closed = false;
  const close = async () => {
    if (!closed) await store.close();
    closed = true;
  };
  return {
    onStep: (r, step, current) => steps.write(r, current.seed, step),
    async finish(result) {
      await steps.settle();
      await store.finishRun(run.id, result);
      return exportResult(store, location, run.id);
    },
    async fail(message, partial) {
      if (closed) return undefined;
      await steps.settle().catch(() => {});
      if (partial) {
        await store.failRun(run.id, "stopped early", partial);
        return exportResult(store, location, run.id, { partial: true, summary: partial });
      }
      if ((await store.getRun(run.id))?.status === "running") await store.failRun(run.id, message.split("\n")[0]!);
      return undefined;
    },
    close,
  };
}
