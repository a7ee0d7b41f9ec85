// The scoring port: what the protocol loop asks of any model. One adapter per backend kind (ports/sim.ts, tokens.ts,
// text.ts) answers "the exact distribution over the support at this state"; generation is an optional capability.
import type { Capabilities } from "../backends/types.ts";
import type { RunError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import type { Generated } from "../scoring/generate.ts";

/** The distribution over the support at one state of a run, as the backend can tell it. */
export interface SupportScore {
  /** Mass of each answer (any common scale: the loop normalises; at the run's temperature and sampler, T = 0 read at T = 1). */
  raw: number[];
  /** Mass on text that is none of the answers. */
  leak: number;
  /** Mass the backend could not resolve (pruned paths, outside a server's top-k): a bound on the error of raw and leak. */
  unknown: number;
  /** Token backends: per answer, the token path appended when the run writes it (sequential protocol). */
  paths?: readonly (number[] | null)[];
  /** Indices of answers no visible path reached (top-k servers). */
  outside?: readonly number[];
  /** Entropy (nats) of the full next-token distribution at the state; null when only part of the vocabulary was given. */
  entropyFull?: number | null;
  /** Top-k servers: bounds on that entropy from the visible top k. */
  entropyBounds?: [number, number | null];
}

/** One run's position in its conversation: the prompt, then what the run wrote. */
export interface RunCursor {
  /** The distribution over the support here; `consumed` = bytes already written past the last answer (batch). */
  score(consumed?: string): Promise<SupportScore>;
  /** The run wrote answer `index` (scored protocols that keep the history). */
  advance(index: number, scored: SupportScore): void;
  /** Generation capability: samples tokens from here (keeping them) until the written bytes hold a delimiter, the model ends, or `budget` tokens. */
  generateUntilDelimiter?(written: string, budget: number): Promise<Generated>;
}

/** One answer a run wrote: its index in the support and, on token backends, the token path appended for it. */
export interface Written {
  readonly index: number;
  readonly path?: readonly number[] | null;
}

export interface ScoringPort {
  readonly capabilities: Capabilities;
  /** A run's cursor at the prompt alone; `rng` is the run's one generator (sim models draw from it too). */
  begin(rng: Rng): RunCursor;
  /**
   * A cursor at the prompt followed by these answers, as if the run had written them: the counterfactual histories
   * of `ptalign probe --counterfactual` (src/probe/counterfactual.ts) re-score a step after another history. Every
   * scored port has it (sim, tokens, text); a token backend needs each answer's path (what `advance` appended).
   */
  resume?(rng: Rng, written: readonly Written[]): RunCursor;
  /** The run failure for a step where no answer has any probability (its advice depends on the backend). */
  noAnswer(t: number, scored: SupportScore): RunError;
  /** What the result records about the measurement (settings.prompt, chat_template, engine, remote, model_spec). */
  recorded(): Record<string, unknown>;
}
