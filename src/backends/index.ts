import type { Model } from "./registry.ts";
import type { SimModel } from "./sim.ts";
import type { TextBackend } from "./types.ts";

export type { TokenBackend, TextBackend, TextScored, TokenDistribution, Vocabulary, PromptParts, EngineStats, Capabilities, ModelKind } from "./types.ts";
export { openOpenAIModel, type OpenAIOptions, type ScoringMode } from "./openai.ts";
export type { SimModel } from "./sim.ts";
export { loadLlamaBackend, resolveGgufPath, type LlamaOptions } from "./llama.ts";
export { parseSimSpec, SIM_CAPABILITIES } from "./sim.ts";
export { BACKENDS, modelSpecHelp, openModel, parseModelSpec, rebaseModelSpec, type BackendEntry, type BackendName, type Model, type ModelOptions, type ParsedModelSpec } from "./registry.ts";

/** By the model's declared kind. */
export const isSimModel = (m: Model): m is SimModel => m.kind === "sim";
export const isTextBackend = (m: Model): m is TextBackend => m.kind === "text";

export async function closeModel(m: Model): Promise<void> {
  if (m.kind !== "sim") await m.close();
}
