// The model's output head (final RMSNorm and output matrix) read from its GGUF file, so that any block's residual
// stream can be turned into next-token logits in JavaScript (the logit lens, docs/probe.md). One projection costs
// n_vocab × n_embd multiply-adds; F16 and BF16 matrices stay 2 bytes a weight and are widened as they are read, Q8_0
// blocks are dequantised as they are read. Other quantisations (Q4_K, Q6_K, …) are refused: their lens would need
// llama.cpp's dequantisers.
import { open } from "node:fs/promises";
import type { GgufTensorInfo } from "node-llama-cpp";
import { InputError } from "../errors.ts";
import type { LibLlama } from "./libllama.ts";
import { ggmlRowSize, nativeOutputHead } from "./nativeHead.ts";
import type { OutputHead } from "./types.ts";

const F32 = 0;
const F16 = 1;
const Q8_0 = 8;
const BF16 = 30;
const TYPE_NAMES: Record<number, string> = { [F32]: "F32", [F16]: "F16", [Q8_0]: "Q8_0", [BF16]: "BF16" };

/** float16 bits → float32 value, for every 16-bit pattern. */
let halfTable: Float32Array | undefined;
function halves(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (halfTable = t);
}

interface GgufInfo {
  metadata: Record<string, unknown>;
  tensorInfo?: readonly GgufTensorInfo[];
}

/** RMSNorm as llama.cpp computes it: x / sqrt(mean(x²) + eps), times the norm weight (float32 results). */
function rmsNorm(hidden: Float32Array, norm: Float32Array, eps: number): Float32Array {
  const d = norm.length;
  let ss = 0;
  for (let j = 0; j < d; j++) ss += hidden[j]! * hidden[j]!;
  const r = Math.fround(1 / Math.sqrt(Math.fround(ss / d) + eps));
  const y = new Float32Array(d);
  for (let j = 0; j < d; j++) y[j] = Math.fround(hidden[j]! * r) * norm[j]!;
  return y;
}

/** Where the projection runs: ggml's CPU backend through the bound libllama (any matrix type), else JavaScript. */
export interface HeadEngine {
  native: LibLlama | null;
  threads: number;
}

/**
 * Reads the output head of the GGUF file at `path` (tied embeddings: the token embedding matrix). With a bound
 * libllama the product runs in ggml (every ggml type); otherwise, or when ggml cannot be bound, in JavaScript
 * (F32, F16, BF16, Q8_0).
 */
export async function readOutputHead(path: string, engine: HeadEngine = { native: null, threads: 1 }): Promise<OutputHead> {
  const { readGgufFileInfo } = await import("node-llama-cpp");
  const info = (await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false })) as unknown as GgufInfo;
  const meta = info.metadata;
  const arch = String((meta["general"] as { architecture?: unknown } | undefined)?.architecture ?? "");
  const a = (meta[arch] ?? {}) as Record<string, unknown>;
  const attention = (a["attention"] ?? {}) as Record<string, unknown>;
  const eps = attention["layer_norm_rms_epsilon"];
  if (typeof eps !== "number") throw new InputError(`the logit lens applies the final RMSNorm, and ${arch} models use another final norm; probe with --no-lens, or use a llama/qwen/mistral-family model`);
  const tensors = new Map((info.tensorInfo ?? []).map((t) => [t.name, t]));
  const normInfo = tensors.get("output_norm.weight");
  if (!normInfo) throw new InputError(`${path} has no output_norm.weight; the logit lens needs the final norm's weights`);
  if (tensors.has("output_norm.bias")) throw new InputError(`${path}'s final norm has a bias (a LayerNorm); the logit lens supports RMSNorm only, probe with --no-lens`);
  const outInfo = tensors.get("output.weight") ?? tensors.get("token_embd.weight");
  if (!outInfo) throw new InputError(`${path} has neither output.weight nor token_embd.weight`);
  const nEmbd = Number(outInfo.dimensions[0]);
  const nVocab = Number(outInfo.dimensions[1]);
  const type = Number(outInfo.ggmlType);
  let rowSize: number | null = null;
  if (engine.native) {
    try {
      rowSize = ggmlRowSize(engine.native, type, nEmbd);
    } catch {
      rowSize = null; // ggml not bindable here: the JavaScript head below
    }
  }
  if (rowSize === null && !(type in TYPE_NAMES)) throw new InputError(`${path}'s output matrix ${outInfo.name} is quantised (ggml type ${type}); the logit lens reads F32, F16, BF16 or Q8_0 output matrices — use a file whose output tensor is one of those, or probe with --no-lens`);
  if (Number(normInfo.ggmlType) !== F32) throw new InputError(`${path}'s output_norm.weight is not F32`);
  const file = await open(path, "r");
  try {
    const read = async (t: GgufTensorInfo, bytes: number) => {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await file.read(buf, 0, bytes, Number(t.fileOffset));
      if (bytesRead !== bytes) throw new InputError(`${path} is truncated (tensor ${t.name})`);
      return buf;
    };
    const normBuf = await read(normInfo, nEmbd * 4);
    const norm = new Float32Array(normBuf.buffer, normBuf.byteOffset, nEmbd).slice();
    const softcap = typeof a["final_logit_softcapping"] === "number" ? (a["final_logit_softcapping"] as number) : 0;
    const scale = typeof a["logit_scale"] === "number" ? (a["logit_scale"] as number) : 1;
    const epsF = Math.fround(eps);
    if (rowSize !== null && engine.native) {
      const weights = await read(outInfo, rowSize * nVocab);
      try {
        return nativeOutputHead(engine.native, {
          nEmbd,
          nVocab,
          type,
          weights,
          threads: engine.threads,
          normalise: (h) => rmsNorm(h, norm, epsF),
          finish: (out) => finishLogits(out, scale, softcap),
        });
      } catch (err) {
        if (!(type in TYPE_NAMES)) throw new InputError(`the logit lens could not run ggml for ${outInfo.name} (${err instanceof Error ? err.message : String(err)}), and JavaScript reads only F32, F16, BF16 or Q8_0 output matrices; probe with --no-lens`);
      }
    }
    const rowBytes = type === F32 ? nEmbd * 4 : type === Q8_0 ? (nEmbd / 32) * 34 : nEmbd * 2;
    if (type === Q8_0 && nEmbd % 32 !== 0) throw new InputError(`${path}: Q8_0 output rows must be a multiple of 32 wide`);
    const raw = await read(outInfo, rowBytes * nVocab);
    return new GgufOutputHead(nEmbd, nVocab, epsF, norm, type, raw, softcap, scale);
  } finally {
    await file.close();
  }
}

/** What llama.cpp does after the output product for some architectures: divide by a logit scale, soft-cap. */
function finishLogits(out: Float32Array, scale: number, softcap: number): void {
  if (scale !== 1) for (let v = 0; v < out.length; v++) out[v] = out[v]! / scale;
  if (softcap > 0) for (let v = 0; v < out.length; v++) out[v] = softcap * Math.tanh(out[v]! / softcap);
}

/** The JavaScript projection (no ggml): F32, F16, BF16 and Q8_0 matrices. */
class GgufOutputHead implements OutputHead {
  private readonly f32?: Float32Array;
  private readonly u16?: Uint16Array;
  private readonly i8?: Int8Array;
  private readonly bytes: Buffer;

  constructor(
    readonly nEmbd: number,
    readonly nVocab: number,
    private readonly eps: number,
    private readonly norm: Float32Array,
    private readonly type: number,
    raw: Buffer,
    private readonly softcap: number,
    private readonly scale: number,
  ) {
    // Aligned copies: a typed array over the file buffer needs its offset to be a multiple of the element size.
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    this.bytes = Buffer.from(copy.buffer);
    if (type === F32) this.f32 = new Float32Array(copy.buffer);
    else if (type === F16 || type === BF16) this.u16 = new Uint16Array(copy.buffer);
    else this.i8 = new Int8Array(copy.buffer);
  }

  logits(hidden: Float32Array): Float32Array {
    return this.logitsMany([hidden])[0]!;
  }

  /**
   * Several residual streams in one pass over the matrix: each row of W is read (and widened) once and multiplied
   * with every stream while it is in cache — the matrix is hundreds of megabytes, the streams a few kilobytes.
   */
  logitsMany(hiddens: readonly Float32Array[]): Float32Array[] {
    const d = this.nEmbd;
    const K = hiddens.length;
    const ys = hiddens.map((hidden) => Float64Array.from(rmsNorm(hidden, this.norm, this.eps)));
    const outs = hiddens.map(() => new Float32Array(this.nVocab));
    const row = new Float64Array(d);
    const h = halves();
    const w32 = this.f32;
    const w16 = this.u16;
    const bf = this.type === BF16;
    const f = new Float32Array(1);
    const fu = new Uint32Array(f.buffer);
    for (let v = 0, o = 0; v < this.nVocab; v++, o += d) {
      if (w32) for (let j = 0; j < d; j++) row[j] = w32[o + j]!;
      else if (w16 && bf)
        for (let j = 0; j < d; j++) {
          fu[0] = w16[o + j]! << 16;
          row[j] = f[0]!;
        }
      else if (w16) for (let j = 0; j < d; j++) row[j] = h[w16[o + j]!]!;
      else this.q8Row(v, row);
      for (let k = 0; k < K; k++) {
        const y = ys[k]!;
        let s0 = 0;
        let s1 = 0;
        let j = 0;
        for (; j + 1 < d; j += 2) {
          s0 += row[j]! * y[j]!;
          s1 += row[j + 1]! * y[j + 1]!;
        }
        if (j < d) s0 += row[j]! * y[j]!;
        outs[k]![v] = s0 + s1;
      }
    }
    for (const out of outs) finishLogits(out, this.scale, this.softcap);
    return outs;
  }

  /** Q8_0: blocks of 32 weights, a float16 scale then 32 int8 values. */
  private q8Row(v: number, row: Float64Array): void {
    const h = halves();
    const q = this.i8!;
    const blocks = this.nEmbd / 32;
    for (let k = 0; k < blocks; k++) {
      const at = (v * blocks + k) * 34;
      const scale = h[this.bytes.readUInt16LE(at)]!;
      for (let j = 0; j < 32; j++) row[k * 32 + j] = scale * q[at + 2 + j]!;
    }
  }
}
