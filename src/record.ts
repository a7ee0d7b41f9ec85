// One measurement recorded into the store as it runs (`ptalign run --model …`): every step is written when computed;
// at the end the measurement is completed and exported to DIR/runs/<id>.json. When it fails part way, what was
// computed is kept (recorded as stopped early, exported to DIR/runs/<id>.partial.json) and the failure comes back
// as a StepsKept error saying how many steps are kept and where — the CLI turns that into its message.
// When it is interrupted (Ctrl-C, SIGTERM: its AbortSignal) or the disk fills up, it is recorded as interrupted
// instead, and the same command resumes it: the measurement is found again by its key (the hash of everything that
// changes its numbers), its complete runs are kept and the others measured from their start (run r has seed
// seed + r, so they come out the same as in an uninterrupted measurement).

import { createHash } from "node:crypto";
import type { Model } from "./backends/index.ts";
import type { MeasurementConfig } from "./config/schema.ts";
import { DiskFull, Interrupted, isDiskFull } from "./errors.ts";
import { runSettingsOf } from "./config/build.ts";
import { measure, summarise, type RunRequest } from "./run.ts";
import { openRecorder, RUN_KEY_PREFIX } from "./store/recorder.ts";
import type { ProtocolName, Result, Run, Target } from "./types.ts";

/** A measurement failed after some steps were computed: they are kept in `file`. `cause` is the failure. */
export class StepsKept extends Error {
  override name = "StepsKept";
  constructor(readonly cause: Error, readonly steps: number, readonly file: string) {
    super(`${cause.message.split("\n")[0]} (the ${steps} steps computed before are kept in ${file})`);
  }
}

export interface RecordOptions {
  /** The id the measurement is stored under (a resumed measurement keeps its own). */
  id: string;
  /** The results directory (store location); undefined: nothing is recorded. */
  out: string | undefined;
  /** measurementKey(...): an interrupted measurement with this key is resumed. Without it, none is. */
  key?: string;
  /** Stops the measurement at the next step boundary: it is recorded interrupted and Interrupted is thrown. */
  signal?: AbortSignal;
  /** Adds result-level fields computed from the finished runs (e.g. `probe`) before the result is stored and exported. */
  complete?: (result: Result & { id: string }) => Result & { id: string };
}

/**
 * Everything that changes a single run's numbers — model, target, protocol, prompt template, run settings, the
 * engine's and server's options that change P_token — hashed. Threads, GPU layers, concurrency and keys are left out:
 * they change the speed, not the numbers. Prefixed, so that it never equals a study cell's hash.
 */
export function measurementKey(model: string, target: Target, protocol: ProtocolName, config: MeasurementConfig): string {
  const r = config.remote;
  const identity = {
    v: 1,
    model,
    support: target.support,
    probs: target.probs,
    protocol,
    template: config.template,
    settings: runSettingsOf(config),
    peer_tests: config.peerTests ?? null,
    engine: { kv: config.engine.kv, raw: config.engine.raw, context_size: config.engine.contextSize ?? null },
    ...(model.startsWith("openai:") ? { remote: { base_url: r.baseUrl ?? null, chat: r.chat, scoring: r.scoring, top_logprobs: r.topLogprobs ?? null, n_probs: r.nProbs ?? null } } : {}),
  };
  return `${RUN_KEY_PREFIX}${createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 16)}`;
}

export interface Recorded {
  result: Result & { id: string };
  file?: string;
  /** Set when this continued an interrupted measurement: how many of its runs were kept from before. */
  resumed?: { runs: number };
}

/** measure(), recorded step by step into the store at opts.out. Returns the result and its exported file. */
export async function measureRecorded(req: RunRequest, model: Model, opts: RecordOptions): Promise<Recorded> {
  const runs: Run[] = req.runs ?? [];
  const recorder = await openRecorder(
    opts.out,
    { id: opts.id, model: req.model, protocol: req.protocol, target: req.target, settings: { ...req.settings } },
    opts.key !== undefined ? { key: opts.key, steps: req.settings.steps } : undefined,
  );
  const id = recorder.id;
  const partialOf = () => ({ ...summarise(req.model, req.protocol, req.target, runs.filter((r) => r.steps.length > 0), { ...req.settings, partial: true }), id });
  const stepsOf = () => runs.reduce((n, r) => n + r.steps.length, 0);
  try {
    let result: Result & { id: string };
    try {
      result = { ...(await measure({ ...req, runs, kept: recorder.kept, signal: opts.signal, onStep: (r, step, run) => {
        // The caller's listener runs (and is awaited when it returns a promise) before the step is written, so it may
        // add fields to the step (probe).
        const listened = req.onStep?.(r, step, run);
        return listened instanceof Promise ? listened.then(() => recorder.onStep(r, step, run)) : recorder.onStep(r, step, run);
      } }, model)), id };
      if (opts.complete) result = opts.complete(result);
      return { result, file: await recorder.finish(result), ...(recorder.resumed ? { resumed: { runs: recorder.kept.size } } : {}) };
    } catch (err) {
      const kept = stepsOf();
      const where = opts.out === undefined ? "" : ` in ${opts.out} (measurement ${id})`;
      if (err instanceof Interrupted || (isDiskFull(err) && opts.out !== undefined)) {
        // Stopped from outside: recorded interrupted (best effort on a full disk), resumed by the same command.
        const why = err instanceof Interrupted ? `${err.signal} after ${kept} steps` : `no space left on the device after ${kept} steps`;
        await recorder.interrupt(why, kept >= 2 && opts.out !== undefined ? safely(partialOf) : undefined);
        if (err instanceof Interrupted) {
          throw new Interrupted(err.signal, opts.out === undefined ? `interrupted (${err.signal}) after ${kept} steps; nothing was saved (--no-save)` : `interrupted (${err.signal}): ${kept} steps kept${where}; ${opts.key !== undefined ? "run the same command again to resume" : "this measurement is not resumed (a probe): run the command again for a complete one"}`);
        }
        throw new DiskFull(`no space left on the device while writing the results${where} (${diskCode(err)}): the steps written before are kept; free some space (or move the results directory to a larger disk), then run the same command again${opts.key !== undefined ? " to resume" : " (a probe starts afresh)"}`);
      }
      if (kept > 0 && opts.out !== undefined && err instanceof Error) {
        // Keep what was computed: the finished steps are summarised and exported to <id>.partial.json.
        const file = await recorder.fail(err.message, partialOf());
        if (file) throw new StepsKept(err, kept, file);
      }
      await recorder.fail(err instanceof Error ? err.message : String(err));
      throw err;
    }
  } finally {
    await recorder.close();
  }
}

/** The summary of the steps so far, or none when they cannot be summarised (too few to classify). */
function safely<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

const diskCode = (err: unknown) => String((err as { code?: unknown }).code ?? "ENOSPC");
