// What every protocol run is told: the run settings, the step listener and the seed of run r.
import type { Run, Step } from "../types.ts";
import type { SamplerSettings } from "../scoring/sampler.ts";
import type { AnswerParser } from "./answers.ts";

export interface RunSettings {
  steps: number;
  runs: number;
  /** Sampling temperature; 0 = greedy (the most probable answer). */
  temperature: number;
  seed: number;
  /** Trie paths below this probability are not expanded (their mass is reported as `unknown`). */
  prune: number;
  /** Longest free answer, in tokens, the batch protocol waits for before counting the answer as unparseable (default 24). */
  maxAnswerTokens?: number;
  /** Deployed sampler truncations (top-k, top-p, min-p) in their engine's order; ptoken is what that sampler draws from. */
  sampler?: SamplerSettings;
  /** Batch: consecutive unparseable answers after which the run stops cleanly (default 5). */
  maxFailures?: number;
  /** Batch: how a written answer becomes a sample (default: the trimmed text must be a support answer). */
  parseAnswer?: AnswerParser;
  /** false: forget the engine's cached prefix before every step (the benchmark's baseline). Default true. */
  reusePrefix?: boolean;
  /** Logit bias per answer (docs/metrics.md, "Correction"): token backends bias each answer's first distinguishing token; sim models tilt q directly. */
  logitBias?: Record<string, number>;
}

/**
 * Called after every finished step, so callers can show progress and keep partial results. The loop awaits it before
 * the run's next step (a store that writes each step can be asynchronous).
 */
export type StepListener = (runIndex: number, step: Step, run: Run) => void | Promise<void>;

/** The seed of run r: consecutive from the base seed, so runs are reproducible one by one. */
export const runSeed = (seed: number, r: number) => seed + r;
