// Shared data shapes of the result JSON contract (see ../shared/ARCHITECTURE.md). Everything here is plain data.

/** P_task: answer strings (order kept) and their probabilities (validated: finite, ≥ 0, sum 1 within 1e-6). */
export interface Target {
  support: string[];
  probs: number[];
  /** Set when the target is a continuous family binned at a precision (docs/metrics.md, "Continuous targets"). */
  continuous?: ContinuousInfo;
}

/** How a continuous target was binned: answer k·bin_width stands for [k·w − w/2, k·w + w/2). */
export interface ContinuousInfo {
  family: "normal" | "cuniform" | "beta" | "exponential" | "cauchy" | "student_t" | "chi2" | "f" | "gamma" | "weibull" | "laplace" | "logistic";
  /** The family's parameters by name (e.g. {mu: 0, sigma: 1}). */
  params: Record<string, number>;
  /** Decimals written after the point. */
  precision: number;
  bin_width: number;
  /** Lower edge of the first bin and upper edge of the last. */
  range: [number, number];
  /** Probability mass of the distribution outside the range (the bins' probabilities are renormalised without it). */
  tail: number;
  /** The DIST text it came from. */
  dist: string;
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
  /** The number the model wrote, when its answer parses as one (free-form answers: "0.37", "-1.2e-1"); continuous sample tests use it. */
  value?: number;
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
  /** null when no sample was drawn (e.g. `metrics` without --samples). */
  sample_tvd: number | null;
  volatility: number;
  concentration: number;
  entropy_ratio: number | null;
  /** 1 − atvd under its old name, kept as the alias of `alignment_score` (not the paper's e-score; docs/metrics.md). */
  e_score: number;
  leak: number;
  chi2: number | null;
  chi2_p: number | null;
  w1: number | null;
  /** The smallest expected count n·p_i of chi2 (null without samples); absent in results stored before it existed. */
  chi2_min_expected?: number | null;
  /** The share of chi2's cells with an expected count below 5 (Cochran's rule: chi2_p is read only when ≤ 0.2 and the smallest ≥ 1). */
  chi2_small_cells?: number | null;
  /** Steps whose answer could not be parsed (`sample: null` with `raw`, batch protocol). Absent in results stored before it existed. */
  unparsed?: number;
  /** Continuous targets: one-sample KS of the sample values against the CDF (null without values). */
  ks?: number | null;
  ks_p?: number | null;
  /** Continuous targets: W1 between the sample values and the distribution itself (null without values or when E|X| = ∞). */
  w1_dist?: number | null;
  /** Continuous targets: how many numbers the value tests used (those outside the bins' range included). */
  n_values?: number;
  /** The "bad dice" peers' recipe (opt-in, --peer-tests): docs/metrics.md, "Continuous targets". */
  peers?: PeerTests;
}

export interface PeerTests {
  /** Reference draws from the target (seeded), as many as the model's values unless set. */
  n_ref: number;
  /** Two-sample KS of the values against the reference draws (continuous targets). */
  ks2: number | null;
  ks2_p: number | null;
  /** W1 between the values and the reference draws (scipy's wasserstein_distance of the two samples). */
  w1_ref: number | null;
  /** Chi-square over the support with tail cells of expected count < 5 merged. */
  chi2: number | null;
  chi2_p: number | null;
  df: number | null;
}

/** "off-format" (added after version 1): the model mostly writes text that is no answer (mean leak > off_format_leak). */
export type VerdictType = "D" | "E" | "collapsed" | "mixed" | "uncertain" | "off-format";

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
  /** Settings that produced the run (RecordedSettings; read old files with config/recorded.ts). */
  settings?: RecordedSettings;
  /** Identifier under DIR/runs/<id>.json when stored. */
  id?: string;
}

/**
 * `settings` of a result, with the keys result files have always had (camelCase for the protocols' fields, snake_case
 * for the rest). Every key is optional: older files (settings_version absent = 1), `metrics` results and partial runs
 * hold fewer. Files are read through config/recorded.ts (zod), which keeps unknown keys and drops malformed ones.
 */
export type RecordedSettings = {
  /** Version of this layout: absent in files written before it was recorded (the same keys, version 1). */
  settings_version?: number;
  steps?: number;
  runs?: number;
  temperature?: number;
  seed?: number;
  prune?: number;
  /** Deployed sampler truncations (absent when nothing truncates). */
  sampler?: RecordedSampler;
  /** Batch protocol only. */
  maxAnswerTokens?: number;
  maxFailures?: number;
  /** run --logit-bias / correct: bias per answer. */
  logitBias?: Record<string, number>;
  /** --peer-tests (reference draws when given). */
  peer_tests?: { reference?: number };
  /** `correct`'s re-run: metrics before and after the bias. */
  correction?: { before: CorrectionMetrics; after: CorrectionMetrics; iterations: number };
  /** A run that stopped early, kept as <id>.partial.json. */
  partial?: boolean;
  /** `metrics`: the P_token file the result was computed from. */
  source?: string;
  /** sim models: the spec with every parameter spelled out. */
  model_spec?: string;
  /** The rendered prompt (token and text backends); a string in some older files. */
  prompt?: { user: string; prefill: string } | string;
  /** Whether the model's chat template wrapped the prompt. */
  chat_template?: boolean;
  /** Embedded engine: hardware and work done (older files: tokens_evaluated and distributions only). */
  engine?: RecordedEngine;
  /** openai: models: the server (no credentials) and how P_token was read. */
  remote?: RecordedRemote;
  /** Study cells: the study's name, the cell hash, the target as written, the template text, the prompt's name, the engine settings that change P_token. */
  study?: string;
  cell?: string;
  target_label?: string;
  template?: string;
  prompt_name?: string;
  engine_options?: { kv: "f32" | "f16"; raw: boolean; context_size: number | null };
};

export type RecordedSampler = { order: "llama.cpp" | "vllm"; topK?: number; topP?: number; minP?: number };
export type CorrectionMetrics = { atvd: number; marginal_tvd: number; volatility: number };
export type RecordedEngine = {
  device?: string;
  gpu_layers?: number;
  threads?: number;
  parallel?: number;
  probabilities?: "logits" | "map";
  tokens_evaluated?: number;
  distributions?: number;
};
export type RecordedRemote = { server?: string; scoring?: string; endpoint?: string; top_logprobs?: number; n_probs?: number };
