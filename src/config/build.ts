// A MeasurementConfig from what the CLI flags or a study cell give, and what the rest of the code takes from it: the
// protocols' RunSettings, the backends' ModelOptions and the settings recorded in the result.

import type { ModelOptions } from "../backends/index.ts";
import { InputError } from "../errors.ts";
import type { RunSettings } from "../protocols/index.ts";
import type { RecordedSettings } from "../types.ts";
import { SETTINGS_VERSION } from "./recorded.ts";
import { MeasurementConfigSchema, type MeasurementConfig, type MeasurementInput } from "./schema.ts";
import type { z } from "zod";

export type ConfigIssue = z.core.$ZodIssue;

export interface BuildOptions {
  /** Where the environment is read (once, here): OPENAI_BASE_URL, PTALIGN_RETRY_BASE_MS. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The one-line message for a rule the input breaks, in the caller's words (the CLI names its flags); the default
   * names the field (`sampler.topP: ...`).
   */
  describe?: (issue: ConfigIssue) => string | undefined;
}

/** Fills the defaults, checks the rules across fields (InputError, one line) and resolves the environment. */
export function buildConfig(input: MeasurementInput, opts: BuildOptions = {}): MeasurementConfig {
  const parsed = MeasurementConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(opts.describe?.(issue) ?? `${issue.path.map(String).join(".")}: ${issue.message}`);
  }
  // Keys given as undefined (a flag not set) and keys not given read the same: neither is kept.
  const config = compact(parsed.data);
  const env = opts.env ?? process.env;
  // The server a remote model talks to is part of a study cell's identity: read the environment here, once, so the
  // cell hash and the backend see the same URL.
  const baseUrl = config.remote.baseUrl ?? env.OPENAI_BASE_URL;
  const backoff = Number(env.PTALIGN_RETRY_BASE_MS);
  const backoffMs = config.remote.backoffMs ?? (env.PTALIGN_RETRY_BASE_MS && Number.isFinite(backoff) && backoff >= 0 ? backoff : undefined);
  return { ...config, remote: { ...config.remote, ...(baseUrl !== undefined ? { baseUrl } : {}), ...(backoffMs !== undefined ? { backoffMs } : {}) } };
}

/** The object without its undefined-valued keys, at every depth (plain data only). */
function compact<T>(value: T): T {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, compact(v)])) as T;
}

/** The protocols' settings: the batch options only for the batch protocol (as they are recorded). */
export function runSettingsOf(c: MeasurementConfig): RunSettings {
  return {
    steps: c.steps,
    runs: c.runs,
    temperature: c.temperature,
    seed: c.seed,
    prune: c.prune,
    ...(c.sampler ? { sampler: c.sampler } : {}),
    ...(c.protocol === "batch" ? { maxAnswerTokens: c.batch.maxAnswerTokens, maxFailures: c.batch.maxFailures } : {}),
    ...(c.logitBias ? { logitBias: c.logitBias } : {}),
  };
}

/** The backends' options; `runs` caps the default number of parallel sequences (a single `run` passes its runs). */
export function modelOptionsOf(c: MeasurementConfig, runs?: number): ModelOptions {
  const e = c.engine;
  const r = c.remote;
  return {
    threads: e.threads,
    contextSize: e.contextSize,
    raw: e.raw,
    kv: e.kv,
    gpu: e.gpu,
    gpuLayers: e.gpuLayers,
    parallel: e.parallel,
    runs,
    remote: {
      baseUrl: r.baseUrl,
      ...(r.replicas?.length ? { replicas: r.replicas } : {}),
      apiKeyEnv: r.apiKeyEnv,
      chat: r.chat,
      scoring: r.scoring,
      topLogprobs: r.topLogprobs,
      nProbs: r.nProbs,
      concurrency: r.concurrency,
      ...(r.serverConcurrency !== undefined ? { serverConcurrency: r.serverConcurrency } : {}),
      rpm: r.rpm,
      timeoutMs: r.timeout * 1000,
      retries: r.retries,
      ...(r.backoffMs !== undefined ? { backoffMs: r.backoffMs } : {}),
      cache: r.cache,
      cacheDir: r.cacheDir,
    },
  };
}

/**
 * The measurement's part of the recorded settings. It is also a RunSettings (the same keys), which is how today's
 * measure() takes it: the protocols read their fields, and the result records the whole object.
 */
export type MeasurementRecord = RecordedSettings & Pick<RunSettings, "steps" | "runs" | "temperature" | "seed" | "prune">;

/**
 * settings as a result records them, with the keys result files have always had (camelCase for the protocols'
 * fields, snake_case for the rest): steps, runs, temperature, seed, prune, sampler, maxAnswerTokens and
 * maxFailures (batch), logitBias, peer_tests, and settings_version. The model's facts (prompt, engine, remote,
 * model_spec) are added by the measurement; a study adds its cell's keys (study/matrix.ts cellSettings).
 */
export function recordSettings(c: MeasurementConfig): MeasurementRecord {
  const record: MeasurementRecord = {
    ...runSettingsOf(c),
    ...(c.peerTests ? { peer_tests: c.peerTests.reference !== undefined ? { reference: c.peerTests.reference } : {} } : {}),
    settings_version: SETTINGS_VERSION,
  };
  return record;
}
