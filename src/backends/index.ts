import { InputError } from "../errors.ts";
import { loadLlamaBackend, type LlamaOptions } from "./llama.ts";
import { parseSimSpec, type SimModel } from "./sim.ts";
import type { TokenBackend } from "./types.ts";

export type { TokenBackend, TokenDistribution, Vocabulary, PromptParts, EngineStats } from "./types.ts";
export type { SimModel } from "./sim.ts";
export { loadLlamaBackend, resolveGgufPath, type LlamaOptions } from "./llama.ts";
export { parseSimSpec } from "./sim.ts";

/** A model is either a token-level engine or a simulated family that gives P_token over the support directly. */
export type Model = TokenBackend | SimModel;

export const isSimModel = (m: Model): m is SimModel => !("kind" in m);

/** Opens a MODEL spec of the CLI contract. */
export async function openModel(spec: string, options: LlamaOptions = {}): Promise<Model> {
  if (spec.startsWith("sim:")) return parseSimSpec(spec);
  if (spec.startsWith("hf:") || spec.startsWith("gguf:") || spec.toLowerCase().endsWith(".gguf")) return loadLlamaBackend(spec, options);
  if (spec.startsWith("openai:")) throw new InputError(`openai: models are not available in this version of ptalign yet; use a .gguf file, hf:USER/REPO:QUANT or sim:d|e|collapsed`);
  throw new InputError(`unknown model spec "${spec}": expected a path ending .gguf, gguf:PATH, hf:USER/REPO[:QUANT], openai:MODEL or sim:d|e|collapsed`);
}

export async function closeModel(m: Model): Promise<void> {
  if (!isSimModel(m)) await m.close();
}
