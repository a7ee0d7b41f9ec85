import { open } from "node:fs/promises";
import { freemem } from "node:os";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { InputError, RunError } from "../errors.ts";
import type { Capabilities, EngineStats, OutputHead, PromptParts, TokenBackend, TokenDistribution, Vocabulary } from "./types.ts";
import { DenseProbs } from "./dense.ts";
import { readOutputHead } from "./outputHead.ts";
import { libllama } from "./libllama.ts";
import { NativeContext } from "./nativeContext.ts";
import { buildVocabulary, tokenBytesFromGguf, toBytes } from "./vocab.ts";
import { defaultParallel } from "./parallel.ts";

export type GpuChoice = "auto" | "cuda" | "vulkan" | "metal" | "off";
export const GPU_CHOICES: readonly GpuChoice[] = ["auto", "cuda", "vulkan", "metal", "off"];

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
  /** GPU backend: auto = node-llama-cpp's detection (CPU when none is usable); never a source build. Default auto. */
  gpu?: GpuChoice;
  /** Layers offloaded to the GPU: auto = as many as fit (node-llama-cpp's estimate), or a count. Default auto. */
  gpuLayers?: "auto" | number;
  /**
   * Sequences of the one context (runs measured in parallel, their decodes batched). Default (parallel.ts): 1 on a
   * CPU, where batching does not pay; on a GPU 4, fewer when the KV cache of that many full contexts would take more
   * than a quarter of the free memory.
   */
  parallel?: number;
  /** Runs the caller will measure: the default `parallel` is no larger. */
  runs?: number;
  /**
   * How next-token probabilities are read: "logits" = the float32 logits through libllama's C API (fast, default when
   * available), "map" = node-llama-cpp's probability Map (sorted whole vocabulary per evaluation; the test oracle).
   */
  probabilities?: "logits" | "map";
  /**
   * Read what the model computes inside (the probe, docs/probe.md): every block's residual stream and attention
   * weights at each evaluated position, through llama.cpp's eval callback; the output head for the logit lens.
   */
  inspect?: boolean;
}

/** What the engine runs on, recorded in settings.engine and printed in the run header. */
export type EngineInfo = {
  /** "cpu" or the GPU backend node-llama-cpp loaded (cuda, vulkan, metal). */
  device: string;
  gpu_layers: number;
  threads: number;
  /** Sequences of the context (runs measured in parallel). */
  parallel: number;
  probabilities: "logits" | "map";
};

type NodeLlamaCpp = typeof import("node-llama-cpp");
let library: Promise<NodeLlamaCpp> | undefined;
/** node-llama-cpp takes ~0.4 s to import: load it only when a GGUF model is opened, not for sim or remote models. */
const nodeLlamaCpp = (): Promise<NodeLlamaCpp> => (library ??= import("node-llama-cpp"));

const runtimes = new Map<GpuChoice, Promise<Llama>>();
/**
 * One native runtime per process and GPU choice; never a source build (no toolchain download at run time). `auto` asks
 * first which GPU types this machine can use at all (50 ms), so a machine without one loads the CPU binary directly
 * (node-llama-cpp's own auto would try each GPU binary first, ~3 s, before falling back).
 */
export function engineRuntime(gpu: GpuChoice = "auto"): Promise<Llama> {
  let runtime = runtimes.get(gpu);
  if (!runtime) {
    runtime = openRuntime(gpu);
    runtimes.set(gpu, runtime);
    runtime.catch(() => runtimes.delete(gpu));
  }
  return runtime;
}

const GPU_NAMES: Record<string, string> = { cuda: "CUDA", vulkan: "Vulkan", metal: "Metal" };

/**
 * node-llama-cpp checks its prebuilt binding in a child process forked with this process's `execArgv` before loading
 * it. Under a TypeScript loader (`node --import tsx`: the tests, the benchmarks) that child loads the loader too, for
 * nothing (it runs plain JS): ~0.5 s and ~0.8 CPU-s per process that opens a GGUF model. The loader flags are left out
 * of `execArgv` while the runtime is opened (a few hundred ms, before any model is loaded).
 */
async function withoutLoaderArgs<T>(open: () => Promise<T>): Promise<T> {
  const argv = process.execArgv;
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === "--import" || a === "--loader" || a === "--experimental-loader") && /tsx/.test(argv[i + 1] ?? "")) i++;
    else if (!/^--(import|loader|experimental-loader)=.*tsx/.test(a)) kept.push(a);
  }
  if (kept.length === argv.length) return open();
  process.execArgv = kept;
  try {
    return await open();
  } finally {
    process.execArgv = argv;
  }
}

async function openRuntime(gpu: GpuChoice): Promise<Llama> {
  return withoutLoaderArgs(() => openRuntimeWith(gpu));
}

async function openRuntimeWith(gpu: GpuChoice): Promise<Llama> {
  const { getLlama, getLlamaGpuTypes, LlamaLogLevel } = await nodeLlamaCpp();
  const base = { build: "never", logLevel: LlamaLogLevel.error, progressLogs: false } as const;
  if (gpu === "off") return getLlama({ ...base, gpu: false });
  const usable = (await getLlamaGpuTypes("supported")).filter((g): g is "cuda" | "vulkan" | "metal" => g !== false);
  const found = usable.length ? usable.map((g) => GPU_NAMES[g]).join(", ") : "none";
  if (gpu === "auto") return usable.length === 0 ? getLlama({ ...base, gpu: false }) : getLlama({ ...base, gpu: "auto" });
  const missing = () => new InputError(`--gpu ${gpu}: ${GPU_NAMES[gpu]} is not available on this machine (usable GPU backends: ${found}); use --gpu auto or --gpu off`);
  if (!usable.includes(gpu)) throw missing();
  let llama: Llama;
  try {
    llama = await getLlama({ ...base, gpu });
  } catch {
    throw missing();
  }
  if (llama.gpu !== gpu) throw missing();
  return llama;
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
  const llama = await engineRuntime(options.gpu ?? "auto");
  const gpuLayers = await resolveGpuLayers(llama, path, options.gpuLayers ?? "auto");
  const native = options.probabilities === "map" ? null : await libllama(llama.gpu);
  if (options.inspect && !native) throw new RunError("probe reads the model's layers through libllama's C API, which could not be bound here (koffi or the library failed to load)");
  let model: LlamaModel;
  try {
    // With the C API the weights are loaded there: node-llama-cpp keeps only the vocabulary (tokenizer, chat template).
    model = await llama.loadModel(native ? { modelPath: path, vocabOnly: true } : { modelPath: path, gpuLayers });
  } catch (err) {
    throw new InputError(`llama.cpp could not load ${path} (${err instanceof Error ? err.message : String(err)}); the file may be truncated or of an unsupported architecture`);
  }
  const threads = options.threads ?? 1;
  const contextSize = Math.min(options.contextSize ?? 4096, model.trainContextSize || 4096);
  const kv = options.kv ?? "f32";
  const { resolveChatWrapper } = await nodeLlamaCpp();
  const vocab = readVocabulary(model);
  let evaluator: Evaluator;
  let parallel = 1;
  if (native) {
    parallel = options.parallel ?? defaultParallel({ device: llama.gpu === false ? "cpu" : "gpu", runs: options.runs, kvBytesPerSequence: kvBytes(model, contextSize, kv), freeBytes: freemem() });
    try {
      evaluator = new NativeEvaluator(NativeContext.open(native, { modelPath: path, gpuLayers, contextSize, sequences: parallel, threads, kv, inspect: options.inspect ?? false }));
    } catch (err) {
      await model.dispose();
      throw err;
    }
  } else {
    let context: LlamaContext;
    const kvType = kv === "f16" ? "F16" : "F32";
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
    evaluator = new MapEvaluator(context, contextSize);
  }
  const info: EngineInfo = { device: llama.gpu === false ? "cpu" : llama.gpu, gpu_layers: gpuLayers, threads, parallel, probabilities: native ? "logits" : "map" };
  const backend = new LlamaBackend(spec, model, evaluator, vocab, options.raw ?? false, resolveChatWrapper, info);
  if (options.inspect) {
    let head: Promise<OutputHead> | undefined;
    backend.outputHead = () => (head ??= readOutputHead(path, { native, threads }));
    const close = backend.close.bind(backend);
    backend.close = async () => {
      if (head) (await head.catch(() => null))?.close?.();
      await close();
    };
  }
  return backend;
}

/** `--gpu-layers auto`: none without a GPU, else node-llama-cpp's estimate of what fits in free VRAM; a count is capped at the model's. */
async function resolveGpuLayers(llama: Llama, path: string, want: "auto" | number): Promise<number> {
  if (llama.gpu === false) return 0;
  const { readGgufFileInfo, GgufInsights } = await nodeLlamaCpp();
  const insights = await GgufInsights.from(await readGgufFileInfo(path), llama);
  if (want === "auto") return await insights.configurationResolver.resolveModelGpuLayers("auto");
  return Math.min(want, insights.totalLayers);
}

/** Bytes of KV cache one sequence of a full context takes (the default --parallel keeps R of them within ¼ of free memory). */
function kvBytes(model: LlamaModel, contextSize: number, kv: "f32" | "f16"): number {
  const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown> | undefined>;
  const arch = String((meta["general"] as { architecture?: string } | undefined)?.architecture ?? "llama");
  const a = meta[arch] ?? {};
  const num = (v: unknown, d: number) => (typeof v === "number" && v > 0 ? v : d);
  const attention = (a["attention"] ?? {}) as Record<string, unknown>;
  const heads = num(attention["head_count"], 1);
  const perToken = num(a["block_count"], 1) * 2 * num(a["embedding_length"], 4096) * (num(attention["head_count_kv"], heads) / heads) * (kv === "f32" ? 4 : 2);
  return perToken * contextSize;
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

/** Where next-token distributions come from: libllama's logits (several sequences) or node-llama-cpp's Map (one). */
interface Evaluator {
  readonly contextSize: number;
  readonly sequences: number;
  /** Tokens evaluated so far. */
  readonly evaluated: number;
  /** Milliseconds in forward passes so far, when known. */
  readonly engineMs?: number;
  next(context: readonly number[]): Promise<TokenDistribution>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

function checkContext(context: readonly number[], contextSize: number): void {
  if (context.length === 0) throw new RunError("cannot evaluate an empty context");
  if (context.length > contextSize) {
    throw new RunError(`the context needs ${context.length} tokens but holds ${contextSize}; pass a larger --context-size or fewer --steps`);
  }
}

/**
 * Requests made in the same turn of the event loop (parallel runs, sibling trie nodes) are decoded together, one
 * sequence each: a request goes to the free sequence that already holds the longest prefix of its context, after
 * that prefix is copied from whichever sequence holds more of it (a shared prompt is evaluated once).
 */
class NativeEvaluator implements Evaluator {
  private queue: { context: readonly number[]; resolve: (d: TokenDistribution) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly nc: NativeContext) {}

  get contextSize() {
    return this.nc.contextSize;
  }
  get sequences() {
    return this.nc.sequences;
  }
  get evaluated() {
    return this.nc.evaluated;
  }
  get engineMs() {
    return this.nc.decodeMs;
  }

  next(context: readonly number[]): Promise<TokenDistribution> {
    checkContext(context, this.nc.contextSize);
    return new Promise((resolve, reject) => {
      this.queue.push({ context, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.nc.sequences);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    try {
      const seqs = this.assign(batch.map((b) => b.context));
      const logits = this.nc.evaluate(batch.map((b, i) => ({ seq: seqs[i]!, context: b.context })));
      batch.forEach((b, i) => {
        const { inside, ...l } = logits[i]!;
        b.resolve({ probs: new DenseProbs(l), complete: true, logits: l, ...(inside ? { inside } : {}) });
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }

  private assign(contexts: readonly (readonly number[])[]): number[] {
    const common = (a: readonly number[], b: readonly number[]) => {
      let n = 0;
      while (n < a.length && n < b.length && a[n] === b[n]) n++;
      return n;
    };
    const used = new Set<number>();
    // What each sequence keeps through this batch (an assigned sequence is cut back to its request's common prefix).
    const stable = Array.from({ length: this.nc.sequences }, (_, s) => this.nc.tokens(s).length);
    return contexts.map((context) => {
      let best = -1;
      let bestN = -1;
      for (let s = 0; s < this.nc.sequences; s++) {
        if (used.has(s)) continue;
        const n = common(this.nc.tokens(s), context);
        if (n > bestN) [best, bestN] = [s, n];
      }
      used.add(best);
      let src = -1;
      let srcN = bestN;
      for (let s = 0; s < this.nc.sequences; s++) {
        const n = Math.min(common(this.nc.tokens(s), context), stable[s]!, context.length - 1);
        if (s !== best && n > srcN) [src, srcN] = [s, n];
      }
      if (src >= 0) this.nc.copyPrefix(src, best, srcN);
      stable[best] = Math.min(common(this.nc.tokens(best), context), context.length - 1);
      return best;
    });
  }

  async reset(): Promise<void> {
    this.nc.clear();
  }

  async close(): Promise<void> {
    this.nc.close();
  }
}

/** node-llama-cpp's own evaluation: `probabilities: true` gives a Map of every token, sorted by probability. */
class MapEvaluator implements Evaluator {
  readonly sequences = 1;
  evaluated = 0;
  private readonly seq: LlamaContextSequence;

  constructor(
    private readonly context: LlamaContext,
    readonly contextSize: number,
  ) {
    this.seq = context.getSequence();
  }

  async next(context: readonly number[]): Promise<TokenDistribution> {
    checkContext(context, this.contextSize);
    const current = this.seq.contextTokens;
    let keep = 0;
    while (keep < current.length && keep < context.length && current[keep] === context[keep]) keep++;
    // The distribution comes out of the last evaluated token, so at least that one is evaluated again.
    if (keep === context.length) keep--;
    if (keep < this.seq.nextTokenIndex) await this.seq.eraseContextTokenRanges([{ start: keep, end: this.seq.nextTokenIndex }]);
    const rest = context.slice(keep) as Token[];
    const input = rest.map((t, i) => (i === rest.length - 1 ? ([t, { generateNext: { probabilities: true } }] as const) : t));
    const out = await this.seq.controlledEvaluate(input as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
    this.evaluated += rest.length;
    const probs = out[rest.length - 1]?.next.probabilities;
    if (!probs) throw new RunError("llama.cpp returned no next-token probabilities");
    return { probs: probs as ReadonlyMap<number, number>, complete: true };
  }

  async reset(): Promise<void> {
    await this.seq.clearHistory();
  }

  async close(): Promise<void> {
    await this.context.dispose();
  }
}

class LlamaBackend implements TokenBackend {
  readonly kind = "tokens" as const;
  readonly stats: EngineStats = { evaluated: 0, requests: 0 };
  readonly templated: boolean;
  readonly contextSize: number;
  /** Several sequences: runs go in parallel and a trie level is evaluated together (one batched decode). */
  readonly parallel: boolean;
  /** Exact full-vocabulary distributions, free generation, every protocol; as many runs at once as the context has sequences. */
  readonly capabilities: Capabilities;
  /** Set when the engine was opened with `inspect` (the probe). */
  outputHead?: () => Promise<OutputHead>;

  constructor(
    readonly name: string,
    private readonly model: LlamaModel,
    private readonly evaluator: Evaluator,
    readonly vocab: Vocabulary,
    raw: boolean,
    private readonly resolveChatWrapper: NodeLlamaCpp["resolveChatWrapper"],
    readonly engine: EngineInfo,
  ) {
    this.templated = !raw && typeof model.fileInfo.metadata.tokenizer?.chat_template === "string";
    this.contextSize = evaluator.contextSize;
    this.parallel = evaluator.sequences > 1;
    this.capabilities = { scoring: "exact", generation: true, protocols: ["sequential", "independent", "batch"], parallel: evaluator.sequences, logitBias: true, samplerTruncation: true, temperatures: "any" };
  }

  /** Resolved once: matching a template node-llama-cpp has no built-in wrapper for costs seconds (Llama-3.1: ~5 s). */
  private wrapper: ReturnType<NodeLlamaCpp["resolveChatWrapper"]> | undefined;

  private promptText(prompt: PromptParts) {
    if (this.templated) {
      const wrapper = (this.wrapper ??= this.resolveChatWrapper(this.model));
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
    this.stats.requests++;
    try {
      return await this.evaluator.next(context);
    } finally {
      this.stats.evaluated = this.evaluator.evaluated;
      if (this.evaluator.engineMs !== undefined) this.stats.engineMs = this.evaluator.engineMs;
    }
  }

  async reset(): Promise<void> {
    await this.evaluator.reset();
  }

  async close(): Promise<void> {
    await this.evaluator.close();
    await this.model.dispose();
  }
}
