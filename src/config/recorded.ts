// Reading a result's recorded settings (types.ts RecordedSettings): one zod schema per key, typed accessors for the
// modules that read them (summary, store, report, study). Lenient on purpose: a result file of any earlier version
// loads — unknown keys are kept, a known key with an unexpected shape is dropped (its accessor says undefined), never
// an error. Imports only zod and types.ts, so every layer (the store included) may use it.

import { z } from "zod";
import type { RecordedEngine, RecordedSampler, RecordedSettings } from "../types.ts";

/**
 * The layout of RecordedSettings. Files without `settings_version` were written before it was recorded and have
 * the same keys: they read as version 1. A key renamed later bumps this, and the old key stays readable.
 */
export const SETTINGS_VERSION = 1;

const count = z.number().int().min(0);
const metrics = z.object({ atvd: z.number(), marginal_tvd: z.number(), volatility: z.number() });

type Key = keyof RecordedSettings;

/** One schema per known key (the annotation keeps it in step with the RecordedSettings type). */
const KEYS: { [K in Key]-?: z.ZodType<NonNullable<RecordedSettings[K]>> } = {
  settings_version: count,
  steps: count,
  runs: count,
  temperature: z.number(),
  seed: z.number(),
  prune: z.number(),
  sampler: z.object({ order: z.enum(["llama.cpp", "vllm"]), topK: z.number().optional(), topP: z.number().optional(), minP: z.number().optional() }),
  maxAnswerTokens: count,
  maxFailures: count,
  logitBias: z.record(z.string(), z.number()),
  peer_tests: z.object({ reference: z.number().optional() }),
  correction: z.object({ before: metrics, after: metrics, iterations: z.number() }),
  partial: z.boolean(),
  source: z.string(),
  model_spec: z.string(),
  prompt: z.union([z.object({ user: z.string(), prefill: z.string() }), z.string()]),
  chat_template: z.boolean(),
  engine: z.object({
    device: z.string().optional(),
    gpu_layers: z.number().optional(),
    threads: z.number().optional(),
    parallel: z.number().optional(),
    probabilities: z.enum(["logits", "map"]).optional(),
    tokens_evaluated: z.number().optional(),
    distributions: z.number().optional(),
  }),
  remote: z.object({ server: z.string().optional(), scoring: z.string().optional(), endpoint: z.string().optional(), top_logprobs: z.number().optional(), n_probs: z.number().optional() }),
  study: z.string(),
  cell: z.string(),
  target_label: z.string(),
  template: z.string(),
  prompt_name: z.string(),
  engine_options: z.object({ kv: z.enum(["f32", "f16"]), raw: z.boolean(), context_size: z.number().nullable() }),
};

/** The schema of a whole settings object (unknown keys kept): for validating a file strictly, e.g. in tests. */
export const RecordedSettingsSchema = z.looseObject(Object.fromEntries(Object.entries(KEYS).map(([k, s]) => [k, s.optional()])) as { [K in Key]-?: z.ZodOptional<(typeof KEYS)[K]> });

/** The value of one key when it has the recorded shape; undefined when absent or malformed. */
export function recorded<K extends Key>(s: RecordedSettings | null | undefined, key: K): RecordedSettings[K] | undefined {
  if (!s || typeof s !== "object" || !(key in s)) return undefined;
  // KEYS' annotation ties KEYS[key] to RecordedSettings[K]; TypeScript cannot follow that through the generic index.
  const parsed = (KEYS[key] as z.ZodType).safeParse((s as Record<string, unknown>)[key]);
  return parsed.success ? (parsed.data as RecordedSettings[K]) : undefined;
}

/** Settings read from a file or a store row: known keys checked (malformed ones dropped), unknown keys kept. */
export function readRecordedSettings(raw: unknown): RecordedSettings {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in KEYS)) out[k] = v;
    else if (KEYS[k as Key].safeParse(v).success) out[k] = v;
  }
  return out as RecordedSettings;
}

/** The layout version (1 for files written before it was recorded). */
export const settingsVersion = (s: RecordedSettings | undefined): number => recorded(s, "settings_version") ?? 1;

export const recordedSteps = (s: RecordedSettings | undefined): number | undefined => recorded(s, "steps");
export const recordedRuns = (s: RecordedSettings | undefined): number | undefined => recorded(s, "runs");
export const recordedSeed = (s: RecordedSettings | undefined): number | undefined => recorded(s, "seed");
export const recordedTemperature = (s: RecordedSettings | undefined): number | undefined => recorded(s, "temperature");
export const recordedSampler = (s: RecordedSettings | undefined): RecordedSampler | undefined => recorded(s, "sampler");
export const logitBiasOf = (s: RecordedSettings | undefined): Record<string, number> | undefined => recorded(s, "logitBias");

/** Steps planned (steps × runs), null when either is not recorded (store progress of a run in flight). */
export function plannedSteps(s: RecordedSettings | undefined): number | null {
  const steps = recordedSteps(s);
  const runs = recordedRuns(s);
  return steps !== undefined && runs !== undefined ? steps * runs : null;
}

/** The peers' tests asked for with --peer-tests ({reference?: n}); undefined when not asked for. */
export const peerTestsOf = (s: RecordedSettings | undefined): { reference?: number } | undefined => recorded(s, "peer_tests");

/** The label a study gave the target (absent outside studies). */
export const targetLabelOf = (s: RecordedSettings | undefined): string | undefined => recorded(s, "target_label");

/** The prompt's name on a study's prompts axis; "default" when none is recorded. */
export const promptNameOf = (s: RecordedSettings | undefined): string => recorded(s, "prompt_name") ?? "default";

/** The rendered prompt: {user, prefill}, or the string some older files hold. */
export const recordedPrompt = (s: RecordedSettings | undefined): { user: string; prefill: string } | string | undefined => recorded(s, "prompt");

/** The embedded engine's record, as far as it was recorded. */
export const engineOf = (s: RecordedSettings | undefined): RecordedEngine | undefined => recorded(s, "engine");

/** The engine's hardware (device, GPU layers, threads, parallel sequences), when the file records all four. */
export function engineHardware(s: RecordedSettings | undefined): { device: string; gpu_layers: number; threads: number; parallel: number } | undefined {
  const e = engineOf(s);
  if (e?.device === undefined || e.gpu_layers === undefined || e.threads === undefined || e.parallel === undefined) return undefined;
  return { device: e.device, gpu_layers: e.gpu_layers, threads: e.threads, parallel: e.parallel };
}

export type { RecordedSettings };
