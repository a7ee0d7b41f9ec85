import { open } from "node:fs/promises";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { InputError, RunError } from "../errors.ts";
import type { EngineStats, PromptParts, TokenBackend, TokenDistribution, Vocabulary } from "./types.ts";
import { buildVocabulary, tokenBytesFromGguf, toBytes } from "./vocab.ts";

export interface LlamaOptions {
  /** CPU threads for evaluation; 1 is fastest on 2-core machines (2 threads fight). */
  threads?: number;
  contextSize?: number;
  /** Skip the model's chat template and feed the prompt as plain text. */
  raw?: boolean;
  /** KV cache precision: f32 keeps P_token within ~1e-7 of an exact forward pass; f16 halves memory (~3.5e-4 error). */
  kv?: "f32" | "f16";
  /** Where hf: models are cached (node-llama-cpp's default when unset). */
  modelsDir?: string;
}

type NodeLlamaCpp = typeof import("node-llama-cpp");
let library: Promise<NodeLlamaCpp> | undefined;
/** node-llama-cpp takes ~0.4 s to import: load it only when a GGUF model is opened, not for sim or remote models. */
const nodeLlamaCpp = (): Promise<NodeLlamaCpp> => (library ??= import("node-llama-cpp"));

let llamaInstance: Promise<Llama> | undefined;
function sharedLlama(): Promise<Llama> {
  // One native runtime per process; CPU only and never a source build (no toolchain download at run time).
  llamaInstance ??= nodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) => getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error }));
  return llamaInstance;
}

/** Resolves a model spec (`x.gguf`, `gguf:PATH`, `hf:USER/REPO[:QUANT]`, `hf:USER/REPO/FILE.gguf`) to a local file path. */
export async function resolveGgufPath(spec: string, modelsDir?: string): Promise<string> {
  if (spec.startsWith("hf:")) {
    try {
      const { resolveModelFile } = await nodeLlamaCpp();
      return await resolveModelFile(spec, { directory: modelsDir, cli: false, verify: false, onProgress: downloadProgress(spec) });
    } catch (err) {
      const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
      throw new RunError(`could not fetch ${spec} (${why}); hf: models need network access the first time, or download the .gguf yourself and pass its path`);
    }
  }
  const path = spec.startsWith("gguf:") ? spec.slice(5) : spec;
  await assertGguf(path);
  return path;
}

/** First downloads can take minutes: say how far along they are on stderr (a terminal only, at most once a second). */
function downloadProgress(spec: string) {
  let last = 0;
  return ({ totalSize, downloadedSize }: { totalSize: number; downloadedSize: number }) => {
    if (!process.stderr.isTTY || Date.now() - last < 1000) return;
    last = Date.now();
    const mb = (n: number) => (n / 1e6).toFixed(0);
    process.stderr.write(`\rdownloading ${spec}: ${mb(downloadedSize)}/${mb(totalSize)} MB`);
    if (downloadedSize >= totalSize) process.stderr.write("\n");
  };
}

async function assertGguf(path: string): Promise<void> {
  let magic: Buffer;
  try {
    const handle = await open(path, "r");
    try {
      magic = Buffer.alloc(4);
      await handle.read(magic, 0, 4, 0);
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(`model file ${path} does not exist; check the path or use hf:USER/REPO:QUANT`);
    if (code === "EISDIR") throw new InputError(`model ${path} is a directory; pass the .gguf file inside it`);
    throw new InputError(`cannot read model file ${path} (${code ?? String(err)})`);
  }
  if (magic.toString("latin1") !== "GGUF") {
    throw new InputError(`model file ${path} is not a GGUF file (it does not start with "GGUF"); convert it with llama.cpp's convert_hf_to_gguf.py or pass a .gguf file`);
  }
}

export async function loadLlamaBackend(spec: string, options: LlamaOptions = {}): Promise<TokenBackend> {
  const path = await resolveGgufPath(spec, options.modelsDir);
  const llama = await sharedLlama();
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  } catch (err) {
    throw new InputError(`llama.cpp could not load ${path} (${err instanceof Error ? err.message : String(err)}); the file may be truncated or of an unsupported architecture`);
  }
  const threads = options.threads ?? 1;
  const contextSize = Math.min(options.contextSize ?? 4096, model.trainContextSize || 4096);
  const kvType = options.kv === "f16" ? "F16" : "F32";
  let context: LlamaContext;
  try {
    context = await model.createContext({
      contextSize,
      sequences: 1,
      threads,
      flashAttention: false,
      experimentalKvCacheKeyType: kvType,
      experimentalKvCacheValueType: kvType,
    });
  } catch (err) {
    await model.dispose();
    throw new RunError(`could not create a ${contextSize}-token context for ${path} (${err instanceof Error ? err.message : String(err)}); try --context-size with a smaller value`);
  }
  const { resolveChatWrapper } = await nodeLlamaCpp();
  return new LlamaBackend(spec, model, context, context.getSequence(), readVocabulary(model), options.raw ?? false, resolveChatWrapper);
}

function readVocabulary(model: LlamaModel): Vocabulary {
  const tok = model.fileInfo.metadata.tokenizer?.ggml;
  const fromMetadata = tok ? tokenBytesFromGguf(String(tok.model), tok.tokens as readonly string[], tok.token_type as readonly number[] | undefined) : null;
  if (fromMetadata) return buildVocabulary(fromMetadata);
  // Unknown tokenizer family: ask the engine to spell each token (multi-byte pieces may lose bytes).
  const size = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  const bytes: string[] = [];
  for (let id = 0; id < size; id++) bytes.push(model.isSpecialToken(id as Token) ? "" : toBytes(model.detokenize([id as Token])));
  return buildVocabulary(bytes);
}

class LlamaBackend implements TokenBackend {
  readonly kind = "tokens" as const;
  readonly stats: EngineStats = { evaluated: 0, requests: 0 };
  readonly templated: boolean;
  readonly contextSize: number;

  constructor(
    readonly name: string,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly seq: LlamaContextSequence,
    readonly vocab: Vocabulary,
    raw: boolean,
    private readonly resolveChatWrapper: NodeLlamaCpp["resolveChatWrapper"],
  ) {
    this.templated = !raw && typeof model.fileInfo.metadata.tokenizer?.chat_template === "string";
    this.contextSize = context.contextSize;
  }

  private promptText(prompt: PromptParts) {
    if (this.templated) {
      const wrapper = this.resolveChatWrapper(this.model);
      // The model's turn is left open after the prefill, so the model continues it.
      const { contextText } = wrapper.generateContextState({
        chatHistory: [
          { type: "user", text: prompt.user },
          { type: "model", response: [prompt.prefill] },
        ],
      });
      return contextText;
    }
    return null;
  }

  encodePrompt(prompt: PromptParts): number[] {
    const text = this.promptText(prompt);
    if (text) return text.tokenize(this.model.tokenizer).map(Number);
    const tokens = this.model.tokenize(`${prompt.user}\n${prompt.prefill}`, false).map(Number);
    const bos = this.model.tokens.bos;
    return this.model.tokens.shouldPrependBosToken && bos !== null ? [Number(bos), ...tokens] : tokens;
  }

  renderPrompt(prompt: PromptParts): string {
    const text = this.promptText(prompt);
    return text ? text.toString() : `${prompt.user}\n${prompt.prefill}`;
  }

  isEndOfGeneration(token: number): boolean {
    return this.model.isEogToken(token as Token);
  }

  async next(context: readonly number[]): Promise<TokenDistribution> {
    if (context.length === 0) throw new RunError("cannot evaluate an empty context");
    if (context.length > this.contextSize) {
      throw new RunError(`the context needs ${context.length} tokens but holds ${this.contextSize}; pass a larger --context-size or fewer --steps`);
    }
    this.stats.requests++;
    const current = this.seq.contextTokens;
    let keep = 0;
    while (keep < current.length && keep < context.length && current[keep] === context[keep]) keep++;
    // The distribution comes out of the last evaluated token, so at least that one is evaluated again.
    if (keep === context.length) keep--;
    if (keep < this.seq.nextTokenIndex) await this.seq.eraseContextTokenRanges([{ start: keep, end: this.seq.nextTokenIndex }]);
    const rest = context.slice(keep) as Token[];
    const input = rest.map((t, i) => (i === rest.length - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
    const out = await this.seq.controlledEvaluate(input as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
    this.stats.evaluated += rest.length;
    const probs = out[rest.length - 1]?.next.probabilities;
    if (!probs) throw new RunError("llama.cpp returned no next-token probabilities");
    return { probs: probs as ReadonlyMap<number, number>, complete: true };
  }

  async reset(): Promise<void> {
    await this.seq.clearHistory();
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
