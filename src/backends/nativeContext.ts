// A llama.cpp context driven through its C API (see libllama.ts): several sequences in one KV cache, the pending
// tokens of all of them decoded in one llama_decode, and the float32 logits of each request's last token read in place.
import { RunError } from "../errors.ts";
import type { LibLlama } from "./libllama.ts";
import { logSumExp } from "./dense.ts";
import { EvalCapture } from "./evalCapture.ts";
import type { Inside, Logits } from "./types.ts";

export interface NativeContextOptions {
  modelPath: string;
  gpuLayers: number;
  /** Tokens per sequence. */
  contextSize: number;
  sequences: number;
  threads: number;
  kv: "f32" | "f16";
  /** Read each output row's residual streams and attention weights through the eval callback (the probe). */
  inspect?: boolean;
}

/** An evaluation's logits, and what the model computed inside when the context inspects. */
export type Evaluated = Logits & { inside?: Inside };

/** A request: the full context of one sequence; the logits after its last token come back. */
export interface EvalRequest {
  seq: number;
  context: readonly number[];
}


const GGML_TYPE_F32 = 0;
const GGML_TYPE_F16 = 1;

export class NativeContext {
  readonly nVocab: number;
  readonly contextSize: number;
  readonly sequences: number;
  /** Tokens evaluated by llama_decode (the cost that prefix reuse saves). */
  evaluated = 0;
  /** llama_decode calls. */
  decodes = 0;
  /** Milliseconds inside llama_decode. */
  decodeMs = 0;
  private readonly kvTokens: number[][];
  private readonly nBatch: number;
  private readonly batch: Record<string, unknown>;
  private readonly tok: Int32Array;
  private readonly pos: Int32Array;
  private readonly nSeqId: Int32Array;
  private readonly seqIds: Int32Array[];
  private readonly outputs: Int8Array;
  private readonly mem: unknown;
  private closed = false;

  private constructor(
    private readonly L: LibLlama,
    private readonly model: unknown,
    private readonly ctx: unknown,
    nVocab: number,
    contextSize: number,
    sequences: number,
    private readonly capture: EvalCapture | null = null,
  ) {
    this.nVocab = nVocab;
    this.contextSize = contextSize;
    this.sequences = sequences;
    this.kvTokens = Array.from({ length: sequences }, () => []);
    this.mem = L.fn.get_memory(ctx);
    this.nBatch = L.fn.n_batch(ctx) as number;
    const k = L.k;
    this.batch = L.fn.batch_init(this.nBatch, 0, 1) as Record<string, unknown>;
    const view = <T>(field: string, bytes: number, C: new (b: ArrayBuffer) => T) => new C(k.view(this.batch[field], bytes));
    this.tok = view("token", this.nBatch * 4, Int32Array);
    this.pos = view("pos", this.nBatch * 4, Int32Array);
    this.nSeqId = view("n_seq_id", this.nBatch * 4, Int32Array);
    this.outputs = view("logits", this.nBatch, Int8Array);
    const ptrs = k.decode(this.batch["seq_id"], "void *", this.nBatch) as unknown[];
    this.seqIds = ptrs.map((p) => new Int32Array(k.view(p, 4)));
  }

  static open(L: LibLlama, o: NativeContextOptions): NativeContext {
    const mp = L.fn.model_default_params() as Record<string, unknown>;
    mp["n_gpu_layers"] = o.gpuLayers;
    const model = L.fn.model_load_from_file(o.modelPath, mp);
    if (!model) throw new RunError(`llama.cpp could not load ${o.modelPath} through its C API`);
    const cp = L.fn.context_default_params() as Record<string, unknown>;
    const kvType = o.kv === "f16" ? GGML_TYPE_F16 : GGML_TYPE_F32;
    let capture: EvalCapture | null = null;
    if (o.inspect) {
      try {
        capture = new EvalCapture(L, L.fn.model_n_layer(model) as number);
      } catch (err) {
        L.fn.model_free(model);
        throw err;
      }
      cp["cb_eval"] = capture.pointer;
    }
    // One unified KV pool: a prompt copied to several sequences (llama_memory_seq_cp) shares its cells.
    Object.assign(cp, {
      n_ctx: o.contextSize * o.sequences,
      n_batch: 512,
      n_ubatch: 512,
      n_seq_max: o.sequences,
      n_outputs_max_per_seq: 0,
      n_threads: o.threads,
      n_threads_batch: o.threads,
      flash_attn_type: 0,
      type_k: kvType,
      type_v: kvType,
      kv_unified: true,
      no_perf: true,
    });
    const ctx = L.fn.init_from_model(model, cp);
    if (!ctx) {
      capture?.dispose();
      L.fn.model_free(model);
      throw new RunError(`could not create a ${o.contextSize}-token context with ${o.sequences} sequences for ${o.modelPath}; try --context-size or --parallel with a smaller value`);
    }
    const nVocab = L.fn.vocab_n_tokens(L.fn.model_get_vocab(model)) as number;
    return new NativeContext(L, model, ctx, nVocab, o.contextSize, o.sequences, capture);
  }

  /** Tokens a sequence holds in the KV cache. */
  tokens(seq: number): readonly number[] {
    return this.kvTokens[seq]!;
  }

  clear(): void {
    this.L.fn.memory_clear(this.mem, true);
    for (const t of this.kvTokens) t.length = 0;
  }

  /** Makes `dst` hold `src`'s first `n` tokens without evaluating them (cells are shared in the unified cache). */
  copyPrefix(src: number, dst: number, n: number): void {
    this.L.fn.memory_seq_rm(this.mem, dst, -1, -1);
    this.L.fn.memory_seq_cp(this.mem, src, dst, 0, n);
    this.kvTokens[dst] = this.kvTokens[src]!.slice(0, n);
  }

  /**
   * Logits after each request's context. Each sequence keeps the longest prefix it already holds; what remains of all
   * requests is decoded together, in as few llama_decode calls as the batch size allows.
   */
  evaluate(requests: readonly EvalRequest[]): Evaluated[] {
    if (this.closed) throw new RunError("the model is closed");
    const seen = new Set<number>();
    const pending = requests.map(({ seq, context }) => {
      if (seen.has(seq)) throw new Error(`sequence ${seq} requested twice in one batch`);
      seen.add(seq);
      if (context.length === 0) throw new RunError("cannot evaluate an empty context");
      if (context.length > this.contextSize) {
        throw new RunError(`the context needs ${context.length} tokens but holds ${this.contextSize}; pass a larger --context-size or fewer --steps`);
      }
      const held = this.kvTokens[seq]!;
      let keep = 0;
      while (keep < held.length && keep < context.length && held[keep] === context[keep]) keep++;
      // The logits come out of the last evaluated token, so at least that one is evaluated again.
      if (keep === context.length) keep--;
      if (keep < held.length) {
        this.L.fn.memory_seq_rm(this.mem, seq, keep, -1);
        held.length = keep;
      }
      return { seq, context, next: keep };
    });
    const out: Evaluated[] = new Array(requests.length);
    let open = pending.map((_, i) => i);
    while (open.length > 0) {
      let n = 0;
      const last: [request: number, index: number][] = [];
      for (const r of open) {
        const p = pending[r]!;
        const held = this.kvTokens[p.seq]!;
        while (p.next < p.context.length && n < this.nBatch) {
          const token = p.context[p.next]!;
          this.tok[n] = token;
          this.pos[n] = p.next;
          this.nSeqId[n] = 1;
          this.seqIds[n]![0] = p.seq;
          this.outputs[n] = p.next === p.context.length - 1 ? 1 : 0;
          if (this.outputs[n]) last.push([r, n]);
          held.push(token);
          p.next++;
          n++;
        }
        if (n >= this.nBatch) break;
      }
      this.capture?.arm(n, last.map(([r, index]) => ({ row: index, positions: pending[r]!.context.length })));
      this.decode(n);
      const inside = this.capture?.take();
      last.forEach(([r, index], i) => {
        out[r] = inside ? { ...this.readLogits(index), inside: inside[i]! } : this.readLogits(index);
      });
      open = open.filter((r) => pending[r]!.next < pending[r]!.context.length);
    }
    return out;
  }

  private decode(n: number): void {
    const start = performance.now();
    const rc = this.L.fn.decode(this.ctx, { ...this.batch, n_tokens: n }) as number;
    this.decodeMs += performance.now() - start;
    this.decodes++;
    this.evaluated += n;
    if (rc !== 0) {
      // The batch's tokens may be partly in the cache: forget what this decode was meant to add.
      for (let s = 0; s < this.sequences; s++) this.L.fn.memory_seq_rm(this.mem, s, -1, -1);
      for (const t of this.kvTokens) t.length = 0;
      throw new RunError(`llama_decode failed (code ${rc}${rc === 1 ? ": no room in the KV cache; pass a larger --context-size" : ""})`);
    }
  }

  private readLogits(index: number): Logits {
    const ptr = this.L.fn.get_logits_ith(this.ctx, index);
    if (!ptr) throw new RunError("llama.cpp returned no logits");
    // Copied: the buffer is overwritten by the next decode.
    const values = new Float32Array(this.L.k.view(ptr, this.nVocab * 4)).slice();
    return { values, logZ: logSumExp(values) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.L.fn.batch_free(this.batch);
    this.L.fn.free(this.ctx);
    this.capture?.dispose();
    this.L.fn.model_free(this.model);
  }
}
