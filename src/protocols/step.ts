// What every protocol does at one step, whatever the backend: P_token from the scored masses (temperature 0 = the
// argmax), the one "no probability on any answer" failure, and the Step record with every field the backend gave.
import { applyTemperature, normalise, type Rng } from "../rng.ts";
import type { ProtocolName, Run, Step, Target } from "../types.ts";
import type { RunCursor, ScoringPort, SupportScore } from "./port.ts";
import type { RunSettings } from "./settings.ts";

/** One run being measured. */
export interface RunContext {
  port: ScoringPort;
  cursor: RunCursor;
  protocol: ProtocolName;
  target: Target;
  settings: RunSettings;
  rng: Rng;
  run: Run;
  /** Set when a parallel run failed, or the signal is aborted: the runs finish the step they are on and stop. */
  stop: { failed: boolean; signal?: AbortSignal | undefined; yielded?: number };
  onStep: (step: Step) => void | Promise<void>;
}

/** A run stops before its next step when another run failed or the measurement was interrupted. */
export const halted = (stop: RunContext["stop"]): boolean => stop.failed || stop.signal?.aborted === true;

const YIELD_MS = 50;

/**
 * A step boundary. A fast model (sim, a store that writes synchronously) never gives the event loop a turn, so a
 * signal handler would not run until the measurement ended: with a signal to watch, the loop lets it run every 50 ms.
 */
export async function boundary(stop: RunContext["stop"]): Promise<void> {
  if (!stop.signal) return;
  const now = Date.now();
  if (now - (stop.yielded ??= now) < YIELD_MS) return;
  stop.yielded = now;
  await new Promise((resolve) => setImmediate(resolve));
}

/** P_token over the support from a step's masses: normalised, at T = 0 the most probable answer; the port's RunError when no answer has any. */
export function ptokenOf(port: Pick<ScoringPort, "noAnswer">, t: number, scored: SupportScore, temperature: number): number[] {
  const total = scored.raw.reduce((a, b) => a + b, 0);
  if (total === 0) throw port.noAnswer(t, scored);
  return temperature === 0 ? applyTemperature(normalise(scored.raw), 0) : normalise(scored.raw);
}

/** The Step record: the fields every backend gives, then those only some can (entropy, answers outside a top-k, bounds). */
export function buildStep(t: number, ptoken: number[], scored: SupportScore, sample: string | null, target: Target): Step {
  const step: Step = { t, ptoken, leak: scored.leak, sample, unknown: scored.unknown };
  if (scored.entropyFull !== undefined) step.entropy_full = scored.entropyFull;
  if (scored.outside && scored.outside.length > 0) step.outside = scored.outside.map((i) => target.support[i]!);
  if (scored.entropyBounds) step.entropy_full_bounds = scored.entropyBounds;
  return step;
}
