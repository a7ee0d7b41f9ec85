// The configuration of one measurement, as one zod schema: protocol, steps, runs, temperature, seed, prune, the
// deployed sampler, the batch options, the logit bias, the embedded engine's and a remote server's options, the
// prompt template and the peers' tests. The CLI flags (cli/run.ts and its flag helpers) and a study cell
// (study/spec.ts, study/matrix.ts) fill this same schema; its defaults are DEFAULTS (defaults.ts), nowhere else.
// Commander still checks the flags' syntax and the study its YAML (with line numbers); the schema owns the defaults
// and the rules across fields. build.ts turns an input into a MeasurementConfig (and resolves the environment once).

import { z } from "zod";
import { GPU_CHOICES } from "../backends/llama.ts";
import type { ScoringMode } from "../backends/openai.ts";
import { DEFAULT_TEMPLATE } from "../protocols/prompt.ts";
import { SAMPLER_ORDERS, truncates, type SamplerSettings } from "../scoring/sampler.ts";
import { DEFAULTS } from "./defaults.ts";

const whole = (min: number) => z.number().int().min(min);

export const PROTOCOLS = ["sequential", "independent", "batch"] as const;
export const KV_TYPES = ["f32", "f16"] as const;
export const SCORING_MODES = ["auto", "tokens", "echo", "top-k"] as const satisfies readonly ScoringMode[];

/**
 * One schema per field, shared by the configuration below and the study file's schema (study/spec.ts), so a range
 * is written once and a study's error reads as before (`steps: must be ≥ 1, got number 0`).
 */
export const FIELDS = {
  protocol: z.enum(PROTOCOLS),
  steps: whole(1),
  runs: whole(1),
  temperature: z.number().min(0).max(100),
  seed: whole(0),
  prune: z.number().min(0).max(1),
  topK: whole(0),
  /** 0 would keep no token (the CLI says so for --top-p 0). */
  topP: z.number().gt(0).max(1),
  minP: z.number().min(0).max(1),
  samplerOrder: z.enum(SAMPLER_ORDERS),
  maxAnswerTokens: whole(1),
  maxFailures: whole(1),
  logitBias: z.record(z.string(), z.number().min(-100).max(100)),
  threads: whole(1),
  contextSize: whole(16),
  kv: z.enum(KV_TYPES),
  raw: z.boolean(),
  gpu: z.enum(GPU_CHOICES),
  gpuLayers: z.union([z.literal("auto"), whole(0)]),
  parallel: whole(1),
  template: z.string().min(1),
  peerReference: whole(1),
} as const;

/** The sampler as given (top-k 0, top-p 1 and min-p 0 are "off"); the configuration keeps it only when it truncates. */
const SamplerInput = z.strictObject({
  topK: FIELDS.topK.optional(),
  topP: FIELDS.topP.optional(),
  minP: FIELDS.minP.optional(),
  order: FIELDS.samplerOrder.default(DEFAULTS.samplerOrder),
});

/**
 * The one sampler builder: the truncations that act, in the key order settings.sampler has always been recorded
 * and hashed in (order, topK, topP, minP); undefined when nothing truncates.
 */
export function samplerOf(s: { topK?: number; topP?: number; minP?: number; order: SamplerSettings["order"] }): SamplerSettings | undefined {
  const sampler: SamplerSettings = { order: s.order, ...(s.topK ? { topK: s.topK } : {}), ...(s.topP !== undefined && s.topP < 1 ? { topP: s.topP } : {}), ...(s.minP ? { minP: s.minP } : {}) };
  return truncates(sampler) ? sampler : undefined;
}

const EngineConfig = z.strictObject({
  threads: FIELDS.threads.default(DEFAULTS.engine.threads),
  /** Absent: min(4096, the model's). */
  contextSize: FIELDS.contextSize.optional(),
  kv: FIELDS.kv.default(DEFAULTS.engine.kv),
  raw: FIELDS.raw.default(DEFAULTS.engine.raw),
  gpu: FIELDS.gpu.default(DEFAULTS.engine.gpu),
  gpuLayers: FIELDS.gpuLayers.default(DEFAULTS.engine.gpuLayers),
  /** Absent: min(runs, 4) sequences, as memory allows. */
  parallel: FIELDS.parallel.optional(),
});

const RemoteConfig = z.strictObject({
  /** --base-url; build.ts fills in OPENAI_BASE_URL when absent (absent in both: an openai: model refuses to open). */
  baseUrl: z.string().optional(),
  /** --base-url given again: more servers of the same model (backends/remote/pool.ts); never part of a cell's hash. */
  replicas: z.array(z.string()).optional(),
  apiKeyEnv: z.string().optional(),
  chat: z.boolean().default(DEFAULTS.remote.chat),
  scoring: z.enum(SCORING_MODES).default(DEFAULTS.remote.scoring),
  /** Absent: 20 with chat, 5 otherwise. */
  topLogprobs: whole(1).optional(),
  nProbs: whole(1).optional(),
  concurrency: whole(1).default(DEFAULTS.remote.concurrency),
  /** --server-concurrency: requests in flight on one server of a pool at most (absent: concurrency). */
  serverConcurrency: whole(1).optional(),
  rpm: z.number().positive().optional(),
  /** Seconds per request. */
  timeout: z.number().positive().default(DEFAULTS.remote.timeout),
  retries: whole(0).default(DEFAULTS.remote.retries),
  /** Base of the retries' backoff (ms); build.ts takes it from PTALIGN_RETRY_BASE_MS (tests). */
  backoffMs: z.number().min(0).optional(),
  cache: z.boolean().default(DEFAULTS.remote.cache),
  cacheDir: z.string().optional(),
});

export const MeasurementConfigSchema = z.strictObject({
  protocol: FIELDS.protocol.default(DEFAULTS.protocol),
  steps: FIELDS.steps.default(DEFAULTS.steps),
  runs: FIELDS.runs.default(DEFAULTS.runs),
  temperature: FIELDS.temperature.default(DEFAULTS.temperature),
  seed: FIELDS.seed.default(DEFAULTS.seed),
  prune: FIELDS.prune.default(DEFAULTS.prune),
  /** The deployed sampler's truncations; undefined when none acts. */
  sampler: SamplerInput.prefault({}).transform(samplerOf),
  /** Used by the batch protocol only (and recorded only for it). */
  batch: z
    .strictObject({ maxAnswerTokens: FIELDS.maxAnswerTokens.default(DEFAULTS.maxAnswerTokens), maxFailures: FIELDS.maxFailures.default(DEFAULTS.maxFailures) })
    .prefault({}),
  /** Per-answer logit bias (answers of the target; the CLI reads and checks the file). */
  logitBias: FIELDS.logitBias.optional(),
  engine: EngineConfig.prefault({}),
  remote: RemoteConfig.prefault({}),
  /** Prompt template text (protocols/prompt.ts syntax). */
  template: FIELDS.template.default(DEFAULT_TEMPLATE),
  /** The bad-dice peers' tests (--peer-tests), with `reference` draws (default: as many as the samples). */
  peerTests: z.strictObject({ reference: FIELDS.peerReference.optional() }).optional(),
});

/** What the CLI flags or a study cell give: every field optional, defaults filled by the schema. */
export type MeasurementInput = z.input<typeof MeasurementConfigSchema>;
/** A complete configuration: every default filled, the environment resolved (build.ts). */
export type MeasurementConfig = z.output<typeof MeasurementConfigSchema>;
export type EngineConfig = MeasurementConfig["engine"];
export type RemoteConfig = MeasurementConfig["remote"];
export type RemoteInput = NonNullable<MeasurementInput["remote"]>;
export type EngineInput = NonNullable<MeasurementInput["engine"]>;
