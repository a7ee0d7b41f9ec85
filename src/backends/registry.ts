// The MODEL spec grammar, one table: each backend's prefix (or file suffix), its grammar text and its opener. `run`,
// `study` and every help or error text read it here; a new backend is one entry (and its own file).
import { InputError } from "../errors.ts";
import { loadLlamaBackend, type LlamaOptions } from "./llama.ts";
import { openOpenAIModel, type OpenAIOptions } from "./openai.ts";
import { parseSimSpec, type SimModel } from "./sim.ts";
import type { TextBackend, TokenBackend } from "./types.ts";

/**
 * A model is a token-level engine (embedded llama.cpp, llama-server), a text-level remote server (echo or top-k
 * scoring) or a simulated family that gives P_token over the support directly. Each declares its `kind` and
 * `capabilities`.
 */
export type Model = TokenBackend | TextBackend | SimModel;

/** Options of every backend: the embedded engine's, and `remote` for openai: models. */
export type ModelOptions = LlamaOptions & { remote?: OpenAIOptions };

export type BackendName = "gguf-file" | "gguf" | "hf" | "openai" | "sim";

export interface BackendEntry {
  readonly name: BackendName;
  /** How a spec names this backend: it starts with `prefix`, or (checked after every prefix) ends with `suffix`, case-insensitively. */
  readonly prefix?: string;
  readonly suffix?: string;
  /** The grammar as help and errors show it. */
  readonly grammar: string;
  /** The model file on this machine that the spec names, as written (relative paths resolve against the caller's directory). */
  readonly file?: (spec: string) => string;
  /** Checks the spec without opening anything (InputError, one line); absent = any text after the prefix. */
  readonly validate?: (spec: string) => void;
  readonly open: (spec: string, options: ModelOptions) => Promise<Model>;
}

/** In the order help and errors list them. */
export const BACKENDS: readonly BackendEntry[] = [
  { name: "gguf-file", suffix: ".gguf", grammar: "a path ending .gguf", file: (spec) => spec, open: (spec, o) => loadLlamaBackend(spec, o) },
  { name: "gguf", prefix: "gguf:", grammar: "gguf:PATH", file: (spec) => spec.slice("gguf:".length), open: (spec, o) => loadLlamaBackend(spec, o) },
  { name: "hf", prefix: "hf:", grammar: "hf:USER/REPO[:QUANT]", open: (spec, o) => loadLlamaBackend(spec, o) },
  { name: "openai", prefix: "openai:", grammar: "openai:MODEL", open: (spec, o) => openOpenAIModel(spec, o.remote) },
  { name: "sim", prefix: "sim:", grammar: "sim:d|e|collapsed", validate: (spec) => void parseSimSpec(spec), open: async (spec) => parseSimSpec(spec) },
];

/** "a path ending .gguf, gguf:PATH, hf:USER/REPO[:QUANT], openai:MODEL or sim:d|e|collapsed" */
export function modelSpecHelp(): string {
  const all = BACKENDS.map((b) => b.grammar);
  return `${all.slice(0, -1).join(", ")} or ${all[all.length - 1]}`;
}

export interface ParsedModelSpec {
  spec: string;
  backend: BackendEntry;
  /** The model file the spec names on this machine, as written (gguf:PATH, PATH.gguf). */
  file?: string;
}

/** The backend a MODEL spec names (a prefix wins over the .gguf suffix), checked without opening it; InputError otherwise. */
export function parseModelSpec(spec: string): ParsedModelSpec {
  const backend = BACKENDS.find((b) => b.prefix !== undefined && spec.startsWith(b.prefix)) ?? BACKENDS.find((b) => b.suffix !== undefined && spec.toLowerCase().endsWith(b.suffix));
  if (!backend) throw new InputError(`unknown model spec "${spec}": expected ${modelSpecHelp()}`);
  backend.validate?.(spec);
  const file = backend.file?.(spec);
  return { spec, backend, ...(file !== undefined ? { file } : {}) };
}

/** The spec with the model file it names resolved by `resolve` (a study file's models are relative to the study). */
export function rebaseModelSpec(spec: string, resolve: (file: string) => string): string {
  const parsed = parseModelSpec(spec);
  if (parsed.file === undefined) return spec;
  const prefix = parsed.backend.prefix ?? "";
  return prefix + resolve(parsed.file);
}

/** Opens a MODEL spec of the CLI contract. */
export async function openModel(spec: string, options: ModelOptions = {}): Promise<Model> {
  const { backend } = parseModelSpec(spec);
  return backend.open(spec, options);
}
