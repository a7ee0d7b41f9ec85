// Step-by-step recording of a single `ptalign run` into the store: every step is written when it is computed, so a
// crash loses at most the step in flight; saveResult completes the run (or marks it failed) at the end.

import type { ProtocolName, Run, Step, Target } from "../types.ts";
import { Store } from "./db.ts";

export interface Recorder {
  onStep(runIndex: number, step: Step, run: Run): void;
  /** Marks the run failed (when nothing else will complete it) and closes the store. */
  fail(message: string): void;
  close(): void;
}

const NOOP: Recorder = { onStep() {}, fail() {}, close() {} };

export function openRecorder(dir: string | undefined, run: { id: string; model: string; protocol: ProtocolName; target: Target; settings: Record<string, unknown> }): Recorder {
  if (dir === undefined) return NOOP;
  const store = Store.open(dir);
  store.beginRun(run);
  let closed = false;
  return {
    onStep: (r, step, current) => store.addStep(run.id, r, current.seed, step),
    fail(message) {
      if (closed) return;
      if (store.getRun(run.id)?.status === "running") store.failRun(run.id, message.split("\n")[0]!);
      this.close();
    },
    close() {
      if (!closed) store.close();
      closed = true;
    },
  };
}
