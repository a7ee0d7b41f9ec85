// One measurement recorded into the store as it runs (`ptalign run --model …`): every step is written when computed;
// at the end the measurement is completed and exported to DIR/runs/<id>.json. When it fails part way, what was
// computed is kept (recorded as stopped early, exported to DIR/runs/<id>.partial.json) and the failure comes back
// as a StepsKept error saying how many steps are kept and where — the CLI turns that into its message.

import type { Model } from "./backends/index.ts";
import { measure, summarise, type RunRequest } from "./run.ts";
import { openRecorder } from "./store/recorder.ts";
import type { Result, Run } from "./types.ts";

/** A measurement failed after some steps were computed: they are kept in `file`. `cause` is the failure. */
export class StepsKept extends Error {
  override name = "StepsKept";
  constructor(readonly cause: Error, readonly steps: number, readonly file: string) {
    super(`${cause.message.split("\n")[0]} (the ${steps} steps computed before are kept in ${file})`);
  }
}

export interface RecordOptions {
  /** The id the measurement is stored under. */
  id: string;
  /** The results directory (store location); undefined: nothing is recorded. */
  out: string | undefined;
  /** Adds result-level fields computed from the finished runs (e.g. `probe`) before the result is stored and exported. */
  complete?: (result: Result & { id: string }) => Result & { id: string };
}

/** measure(), recorded step by step into the store at opts.out. Returns the result and its exported file. */
export async function measureRecorded(req: RunRequest, model: Model, opts: RecordOptions): Promise<{ result: Result & { id: string }; file?: string }> {
  const runs: Run[] = req.runs ?? [];
  const recorder = await openRecorder(opts.out, { id: opts.id, model: req.model, protocol: req.protocol, target: req.target, settings: { ...req.settings } });
  try {
    let result: Result & { id: string };
    try {
      // The caller's listener runs (and is awaited) before the step is written, so it may add fields to the step.
      result = { ...(await measure({ ...req, runs, onStep: async (r, step, run) => {
        await req.onStep?.(r, step, run);
        return recorder.onStep(r, step, run);
      } }, model)), id: opts.id };
      if (opts.complete) result = opts.complete(result);
    } catch (err) {
      const kept = runs.reduce((n, r) => n + r.steps.length, 0);
      if (kept > 0 && opts.out !== undefined && err instanceof Error) {
        // Keep what was computed: the finished steps are summarised and exported to <id>.partial.json.
        const partial = { ...summarise(req.model, req.protocol, req.target, runs, { ...req.settings, partial: true }), id: opts.id };
        const file = await recorder.fail(err.message, partial);
        if (file) throw new StepsKept(err, kept, file);
      }
      await recorder.fail(err instanceof Error ? err.message : String(err));
      throw err;
    }
    return { result, file: await recorder.finish(result) };
  } finally {
    await recorder.close();
  }
}
