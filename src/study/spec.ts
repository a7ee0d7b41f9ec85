// A study file (YAML): the matrix models × targets × protocols × temperatures × seeds and the settings shared by its
// cells. Validated with zod; every error names the file, the line and the field (`study.yaml:7: models[1]: expected a
// string`). docs/study.md documents the format.

import type { SamplerSettings } from "../scoring/sampler.ts";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import { z } from "zod";
import { rebaseModelSpec } from "../backends/index.ts";
import { buildConfig } from "../config/build.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { FIELDS, samplerOf, type EngineConfig, type MeasurementConfig, type RemoteInput } from "../config/schema.ts";
import { parseDist } from "../distributions/index.ts";
import { InputError } from "../errors.ts";
import { DEFAULT_TEMPLATE, renderPrompt } from "../protocols/index.ts";
import type { ProtocolName, Target } from "../types.ts";

// The file's own shape (snake_case keys, lists for the axes); each value is checked by the measurement
// configuration's field schema (config/schema.ts FIELDS) and its defaults are the configuration's (DEFAULTS).
const EngineSchema = z.strictObject({
  threads: FIELDS.threads.optional(),
  context_size: FIELDS.contextSize.optional(),
  kv: FIELDS.kv.optional(),
  raw: FIELDS.raw.optional(),
  gpu: FIELDS.gpu.optional(),
  gpu_layers: FIELDS.gpuLayers.optional(),
  parallel: FIELDS.parallel.optional(),
});

const StudySchema = z.strictObject({
  name: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).min(1),
  targets: z.array(z.union([z.string().min(1), z.record(z.string(), z.unknown())])).min(1),
  protocols: z.array(FIELDS.protocol).min(1).default([DEFAULTS.protocol]),
  temperatures: z.array(FIELDS.temperature).min(1).default([DEFAULTS.temperature]),
  seeds: z.array(FIELDS.seed).min(1).default([DEFAULTS.seed]),
  steps: FIELDS.steps.optional(),
  runs: FIELDS.runs.optional(),
  prompt: z.string().min(1).optional(),
  prompt_file: z.string().min(1).optional(),
  /** The prompt as an axis: "default" (the built-in template) and named prompt files. */
  prompts: z.array(z.union([z.literal("default"), z.strictObject({ name: z.string().min(1), file: z.string().min(1) })])).min(1).optional(),
  /** Deployed sampler settings as an axis (docs/scoring.md, "Sampler settings"). */
  samplers: z
    .array(z.strictObject({ name: z.string().min(1).optional(), top_k: FIELDS.topK.optional(), top_p: FIELDS.topP.optional(), min_p: FIELDS.minP.optional(), order: FIELDS.samplerOrder.default(DEFAULTS.samplerOrder) }))
    .min(1)
    .optional(),
  prune: FIELDS.prune.optional(),
  engine: EngineSchema.default({}),
  /**
   * openai: models' servers, when the command line gives no --base-url: one, or several replicas of the same model
   * (requests spread over them, with failover; the first names the cells: backends/remote/pool.ts).
   */
  base_urls: z.array(z.string().url()).min(1).optional(),
});

export interface StudyTarget {
  /** As written in the file (a map is shown as DIST text). */
  label: string;
  dist: Target;
}

export interface Study {
  /** Path of the YAML file. */
  file: string;
  name: string;
  /** Model specs as written; `path` is the one opened (relative paths resolved against the file's directory). */
  models: { spec: string; path: string }[];
  targets: StudyTarget[];
  protocols: ProtocolName[];
  temperatures: number[];
  seeds: number[];
  /**
   * The configuration every cell shares (steps, runs, prune, engine, remote, the template of `prompt`/`prompt_file`);
   * a cell sets its protocol, temperature, seed, prompt and sampler in it (matrix.ts).
   */
  config: MeasurementConfig;
  /** Prompt template text (protocols/prompt.ts syntax). */
  template: string;
  /** The prompts axis: named templates (one, named "default" or after prompt_file, when the file has no `prompts`). */
  prompts: { name: string; template: string }[];
  /** The samplers axis: named settings (one, "none", when the file has no `samplers`). */
  samplers: { name: string; sampler?: SamplerSettings }[];
  /** config.engine (the same object). */
  engine: EngineConfig;
}

export interface StudyOptions {
  /** openai: models' options, from the command line (--base-url, --chat, --scoring, ...); not part of the file. */
  remote?: RemoteInput;
  /** Where OPENAI_BASE_URL is read, once (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const KNOWN_KEYS = Object.keys(StudySchema.shape).join(", ");


export async function loadStudy(file: string, opts: StudyOptions = {}): Promise<Study> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read study file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseStudy(text, file, opts);
}

/** Parses and validates a study; `file` names it in errors and anchors relative paths. */
export function parseStudy(text: string, file: string, opts: StudyOptions = {}): Study {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => `${file}:${offset === undefined ? 1 : lines.linePos(offset).line}`;
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line ?? lines.linePos(yamlError.pos[0]).line;
    throw new InputError(`${file}:${line}: invalid YAML: ${yamlError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`);
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // yaml refuses aliases that expand past its limit (a "billion laughs" file): a study error, at the first alias.
    if (!(err instanceof ReferenceError) || !/alias/i.test(err.message)) throw err;
    let first: number | undefined;
    visit(doc, { Alias: (_key, node) => { first = node.range?.[0]; return visit.BREAK; } });
    throw new InputError(`${at(first)}: YAML aliases expand too much (${err.message}): write the values out instead of nesting aliases`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new InputError(`${file}:1: a study is a map with the keys ${KNOWN_KEYS} (see docs/study.md)`);
  }
  const parsed = StudySchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const { node, key } = locate(doc, issue.path);
    if (issue.code === "unrecognized_keys") {
      const name = issue.keys[0]!;
      const pair = isMap(node) ? node.items.find((p) => isScalar(p.key) && String(p.key.value) === name) : undefined;
      const where = issue.path.length > 0 ? `${fieldName(issue.path)}: ` : "";
      const known = issue.path.length === 0 ? KNOWN_KEYS : Object.keys(EngineSchema.shape).join(", ");
      throw new InputError(`${at(rangeOf(pair?.key) ?? rangeOf(node))}: ${where}unknown key "${name}" (known keys: ${known})`);
    }
    const value = lookup(data, issue.path);
    throw new InputError(`${at(rangeOf(node) ?? rangeOf(key))}: ${fieldName(issue.path)}: ${describeIssue(issue, value)}`);
  }
  const s = parsed.data;
  const fail = (path: (string | number)[], message: string): never => {
    throw new InputError(`${at(rangeOf(locate(doc, path).node))}: ${fieldName(path)}: ${message}`);
  };

  const base = dirname(file);
  const models = s.models.map((spec, i) => {
    try {
      return { spec, path: rebaseModelSpec(spec, (file) => (isAbsolute(file) ? file : resolve(base, file))) };
    } catch (err) {
      return fail(["models", i], (err as Error).message);
    }
  });
  const seen = new Set<string>();
  s.models.forEach((spec, i) => {
    if (seen.has(spec)) fail(["models", i], `"${spec}" is listed twice`);
    seen.add(spec);
  });

  const targets = s.targets.map((t, i): StudyTarget => {
    const label = typeof t === "string" ? t : mapToDist(doc, i);
    try {
      return { label, dist: parseDist(label) };
    } catch (err) {
      const split = (label.match(/\(/g) ?? []).length !== (label.match(/\)/g) ?? []).length;
      const hint = split ? ` (in a [..., ...] list YAML splits at commas: quote it, "${label}...")` : "";
      return fail(["targets", i], (err as Error).message.replace(" (use --normalize)", "") + hint);
    }
  });

  if (s.prompt !== undefined && s.prompt_file !== undefined) fail(["prompt_file"], "give either prompt or prompt_file, not both");
  let template = s.prompt ?? DEFAULT_TEMPLATE;
  if (s.prompt_file !== undefined) template = readTemplate(resolve(base, s.prompt_file), () => fail(["prompt_file"], `cannot read ${s.prompt_file}`));
  try {
    renderPrompt(template, { distribution: "", support: ["1"], steps: 1 });
  } catch (err) {
    fail([s.prompt_file !== undefined ? "prompt_file" : "prompt"], (err as Error).message);
  }

  if (s.prompts !== undefined && (s.prompt !== undefined || s.prompt_file !== undefined)) fail(["prompts"], "give either prompts or prompt/prompt_file, not both");
  const prompts = (s.prompts ?? [s.prompt_file !== undefined ? { name: s.prompt_file, file: s.prompt_file } : "default"]).map((p, i) => {
    if (p === "default") return { name: "default", template };
    if (s.prompts === undefined) return { name: p.name, template };
    const text = readTemplate(resolve(base, p.file), () => fail(["prompts", i, "file"], `cannot read ${p.file}`));
    try {
      renderPrompt(text, { distribution: "", support: ["1"], steps: 1 });
    } catch (err) {
      fail(["prompts", i, "file"], (err as Error).message);
    }
    return { name: p.name, template: text };
  });
  const samplers = (s.samplers ?? [undefined]).map((x) => {
    if (!x) return { name: "none" };
    const sampler = samplerOf({ topK: x.top_k, topP: x.top_p, minP: x.min_p, order: x.order });
    const name = x.name ?? ([x.top_k ? `top_k=${x.top_k}` : "", x.top_p !== undefined ? `top_p=${x.top_p}` : "", x.min_p ? `min_p=${x.min_p}` : ""].filter(Boolean).join(",") || "none");
    return sampler ? { name, sampler } : { name };
  });
  const e = s.engine;
  const config = buildConfig(
    { steps: s.steps, runs: s.runs, prune: s.prune, template, engine: { threads: e.threads, contextSize: e.context_size, kv: e.kv, raw: e.raw, gpu: e.gpu, gpuLayers: e.gpu_layers, parallel: e.parallel }, remote: remoteOf(opts.remote, s.base_urls) },
    { env: opts.env },
  );

  return {
    file,
    prompts,
    samplers,
    name: s.name ?? file.replace(/^.*[\\/]/, "").replace(/\.ya?ml$/i, ""),
    models,
    targets,
    protocols: s.protocols,
    temperatures: s.temperatures,
    seeds: s.seeds,
    config,
    template,
    engine: config.engine,
  };
}

/** The command line's remote options, with the file's base_urls when the command line gives no --base-url. */
function remoteOf(remote: RemoteInput | undefined, baseUrls: string[] | undefined): RemoteInput | undefined {
  if (!baseUrls || remote?.baseUrl !== undefined) return remote;
  return { ...remote, baseUrl: baseUrls[0], ...(baseUrls.length > 1 ? { replicas: baseUrls.slice(1) } : {}) };
}

// Read synchronously: parseStudy stays a pure function of (text, file) plus this one include.
function readTemplate(path: string, onError: () => never): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return onError();
  }
}

/** A target written as a YAML map, in the file's order, as DIST text (`{"1":0.1,"2":0.7}`). */
function mapToDist(doc: Document, i: number): string {
  const node = doc.getIn(["targets", i], true);
  if (!isMap(node)) return "{}";
  const parts = node.items.map((p) => {
    const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
    const v = isScalar(p.value) ? p.value.value : p.value;
    return `${JSON.stringify(k)}:${typeof v === "number" ? String(v) : JSON.stringify(String(v))}`;
  });
  return `{${parts.join(",")}}`;
}

/** The YAML node at a zod path, or the nearest ancestor that exists (a missing key points at its map). */
function locate(doc: Document, path: readonly PropertyKey[]): { node: Node | undefined; key: Node | undefined } {
  let node: unknown = doc.contents;
  let key: Node | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number" && node.items[seg] !== undefined) {
      node = node.items[seg];
    } else break;
  }
  return { node: (node ?? undefined) as Node | undefined, key };
}

const rangeOf = (n: unknown): number | undefined => (n && typeof n === "object" && "range" in n ? ((n as Node).range?.[0] ?? undefined) : undefined);

function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : `${out ? "." : ""}${String(seg)}`;
  return out || "study";
}

function lookup(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

const ARTICLE: Record<string, string> = { string: "a string", number: "a number", int: "a whole number", array: "a list", object: "a map", boolean: "true or false" };

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null (an empty value)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `required (${ARTICLE[issue.expected] ?? issue.expected})`;
      return `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describeValue(value)}`;
    case "invalid_union":
      return `expected DIST text (e.g. "uniform(1,6)") or a map of answers to probabilities, got ${describeValue(value)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map(String).join(", ")}, got ${describeValue(value)}`;
    case "too_small":
      if (issue.origin === "array") return `needs at least ${String(issue.minimum)} entr${issue.minimum === 1 ? "y" : "ies"}`;
      if (issue.origin === "string") return "must not be empty";
      return `must be ${issue.inclusive === false ? ">" : "≥"} ${String(issue.minimum)}, got ${describeValue(value)}`;
    case "too_big":
      return `must be ${issue.inclusive === false ? "<" : "≤"} ${String(issue.maximum)}, got ${describeValue(value)}`;
    default:
      return `${issue.message}${value !== undefined ? `, got ${describeValue(value)}` : ""}`;
  }
}
