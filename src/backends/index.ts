import { InputError } from "../errors.ts";
import { loadLlamaBackend, type LlamaOptions } from "./llama.ts";
import { parseSimSpec, type SimModel } from "./sim.ts";
import type { TextBackend, TokenBackend } from "./types.ts";
import { openOpenAIModel, type OpenAIOptions } from "./openai.ts";

export type { TokenBackend, TextBackend, TextScored, TokenDistribution, Vocabulary, PromptParts, EngineStats } from "./types.ts";
export { openOpenAIModel, type OpenAIOptions, type ScoringMode } from "./openai.ts";
export type { SimModel } from "./sim.ts";
export { loadLlamaBackend, resolveGgufPath, type LlamaOptions } from "./llama.ts";
export { parseSimSpec } from "./sim.ts";

/**
 * A model is a token-level engine (embedded llama.cpp, llama-server), a text-level remote server (echo or top-k
 * scoring) or a simulated family that gives P_token over the support directly.
 */
export type Model = TokenBackend | TextBackend | SimModel;

export const isSimModel = (m: Model): m is SimModel => !("kind" in m);
export const isTextBackend = (m: Model): m is TextBackend => "kind" in m && m.kind === "text";

/** Options of every backend: the embedded engine's, and `remote` for openai: models. */
export type ModelOptions = LlamaOptions & { remote?: OpenAIOptions };

/** Opens a MODEL spec of the CLI contract. */
export async function openModel(spec: string, options: ModelOptions = {}): Promise<Model> {
  if (spec.startsWith("sim:")) return parseSimSpec(spec);
  if (spec.startsWith("hf:") || spec.startsWith("gguf:") || spec.toLowerCase().endsWith(".gguf")) return loadLlamaBackend(spec, options);
  if (spec.startsWith("openai:")) return openOpenAIModel(spec, options.remote);
  throw new InputError(unknownModelSpec(spec));
}

/** The one wording of a spec no backend takes (run, study). */
export const unknownModelSpec = (spec: string) => `unknown model spec "${spec}": expected a path ending .gguf, gguf:PATH, hf:USER/REPO[:QUANT], openai:MODEL or sim:d|e|collapsed`;

export async function closeModel(m: Model): Promise<void> {
  if (!isSimModel(m)) await m.close();
}
