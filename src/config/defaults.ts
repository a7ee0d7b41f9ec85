// Every default of a measurement's configuration, in one place: the CLI flags show them in --help (commander's
// `.default(...)` reads them here), the schema (schema.ts) fills them in for the study YAML and the library.
// A leaf module (no imports), so any layer may read it. Defaults that depend on the model — the context size
// (min(4096, the model's)), the parallel sequences (min(runs, 4), as memory allows) and top_logprobs (20 with --chat,
// 5 otherwise) — are resolved by the backend when it opens the model, so they have no value here. The prompt
// template's default is the protocols' built-in template (protocols/prompt.ts DEFAULT_TEMPLATE), filled by schema.ts.

export const DEFAULTS = {
  protocol: "sequential",
  /** Samples per run. */
  steps: 50,
  /** Independent runs (run r uses seed + r). */
  runs: 5,
  temperature: 1,
  seed: 1,
  /** Tokenisation paths below this probability are not expanded. */
  prune: 1e-7,
  /** The deployed sampler's order; no truncation (top-k 0, top-p 1, min-p 0) unless asked for. */
  samplerOrder: "llama.cpp",
  /** Batch protocol: tokens an answer may take, and consecutive unparseable answers before a run stops. */
  maxAnswerTokens: 24,
  maxFailures: 5,
  engine: { threads: 1, kv: "f32", raw: false, gpu: "auto", gpuLayers: "auto" },
  /** openai: models. timeout in seconds. */
  remote: { chat: false, scoring: "auto", concurrency: 8, timeout: 120, retries: 6, cache: true },
} as const;
