// Shared data shapes of the result JSON contract (see ../shared/ARCHITECTURE.md). Everything here is plain data.

/** P_task: answer strings (order kept) and their probabilities (validated: finite, ≥ 0, sum 1 within 1e-6). */
export interface Target {
  support: string[];
  probs: number[];
}

/** One step of one run: P_token over the support (renormalised), raw mass outside it, the sample drawn. */
export interface Step {
  t: number;
  ptoken: number[];
  leak: number;
  /** The answer drawn at this step; null when a free generation (batch protocol) produced text outside the support. */
  sample: string | null;
  /** Raw text the model produced for this step when it is not a support answer (batch protocol only). */
  raw?: string;
  /** Upper bound on probability mass not accounted for (pruned tokenisations, top-k truncation). 0 when exact. */
  unknown?: number;
  /** Answers the server's top-k log-probabilities did not show at this step (remote top-k scoring only). */
  outside?: string[];
  /**
   * Entropy (nats) of the model's full next-token distribution at the step's start, at the run's temperature (token
   * backends that return the whole vocabulary; absent for sim and top-k remote steps). docs/metrics.md, "Analysis".
   */
  entropy_full?: number | null;
  /** Top-k remote steps: bounds [lo, hi] on that entropy from the visible top k (hi null when the vocabulary size is unknown). */
  entropy_full_bounds?: [number, number | null];
}

export interface Run {
  seed: number;
  steps: Step[];
  /** Why the run ended before its planned steps (batch protocol: too many unparseable answers in a row). */
  stopped?: string;
}

export interface Metrics {
  atvd: number;
  marginal_tvd: number;
  sample_tvd: number;
  volatility: number;
  concentration: number;
  entropy_ratio: number | null;
  e_score: number;
  leak: number;
  chi2: number;
  chi2_p: number;
  w1: number | null;
  /** Steps whose answer could not be parsed (`sample: null` with `raw`, batch protocol). Absent in results stored before it existed. */
  unparsed?: number;
}

export type VerdictType = "D" | "E" | "collapsed" | "mixed" | "uncertain";

export interface Verdict {
  type: VerdictType;
  reasons: string[];
  ci: { atvd: [number, number]; volatility: [number, number] };
}

export type ProtocolName = "sequential" | "independent" | "batch";

export interface Result {
  version: 1;
  model: string;
  protocol: ProtocolName;
  target: Target;
  runs: Run[];
  metrics: Metrics;
  verdict: Verdict;
  /** Settings that produced the run (temperature, steps, prompt hash...), for reloading and comparison. */
  settings?: Record<string, unknown>;
  /** Identifier under DIR/runs/<id>.json when stored. */
  id?: string;
}
