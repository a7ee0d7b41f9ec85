// Bigram GGUF models: the next-token distribution depends only on the last token of the context, and is
// chosen in advance. See docs/synth.md for the construction and why the logits are exactly the chosen
// columns.
//
// Construction (llama architecture, F32, one block, one head of size d):
//  - every token belongs to a "row class" c (its own row, or the default row, class 0);
//    token_embd row of a token = one-hot e_c (magnitude 1);
//  - blk.0.attn_output and blk.0.ffn_down are zero (so are q/k/v/gate/up), so the residual stream after
//    the block is still e_c;
//  - output_norm weight = sqrt(1/d + eps) in every entry, so RMSNorm(e_c) * weight = e_c again;
//  - output.weight (n_vocab rows of d) holds at [v][c] the logit of token v under row class c, so the
//    logits are column c: log p for listed tokens, -1e4 (softmax gives exactly 0 in float32) elsewhere.

import { InputError } from "../errors.ts";
import { gguf, writeGguf, type GgufFile, type GgufTensor, type GgufValue } from "./gguf.ts";
import { SPACE_MARK, spmTokenize, type SpmVocab } from "./spm.ts";

export interface BigramSpec {
  /**
   * Normal (non-byte, non-special) vocabulary pieces in SentencePiece form: "▁" stands for a space, e.g.
   * ["▁", "1", "2", ",", "▁1", "▁2", "▁1,"]. A multi-character piece must be reachable by merges whose
   * every intermediate is a piece ("▁1," needs "▁1" or "1,"): `completePieces` adds what is missing.
   */
  pieces: string[];
  /**
   * Next-token probabilities after a token, keyed by the token's text: a piece, "<s>" for BOS, "</s>",
   * "<unk>" or a byte token such as "<0x0A>". Values map token text -> probability and must sum to 1
   * (within 1e-6). Listed tokens get exactly these probabilities (renormalised), all others exactly 0.
   */
  rows: Record<string, Record<string, number>>;
  /** Row used after any token without its own row; default: uniform over all normal pieces. */
  defaultRow?: Record<string, number>;
  /** Optional Jinja chat template stored as tokenizer.chat_template. */
  chatTemplate?: string;
  /** general.name (default "ptalign-synth-bigram"). */
  name?: string;
  /**
   * tokenizer.ggml.add_space_prefix: when true (real Llama/SentencePiece behaviour) the tokenizer
   * prepends a space to a text at its start, so "1," tokenizes as "▁1,". Default false: the text is
   * tokenized exactly as written (" 1," -> "▁1,", "1," -> "1,").
   */
  addSpacePrefix?: boolean;
  /**
   * false: the 256 byte tokens are marked unused, so the model cannot write a character that no piece holds (like a
   * real vocabulary without byte fallback). Default true.
   */
  byteFallback?: boolean;
  /**
   * Make each token cost like a bigger model (for benchmarks): embedding width (default: the number of rows), blocks
   * (default 1) and feed-forward size (default 2). The logits stay exactly the chosen rows.
   */
  compute?: { width?: number; layers?: number; feedForward?: number };
  /** llama.context_length (default 4096). */
  contextLength?: number;
  /**
   * Write the rows' distributions in a known block (for the logit lens, docs/probe.md): the residual stream reads as
   * `before` (token text -> probability, the same for every token) after every block until block `layer`, whose
   * feed-forward turns it into the token's own row; from that block on the lens reads the rows.
   */
  lens?: { layer: number; before: Record<string, number> };
  /**
   * Attention scores (for the probe's attention, docs/probe.md): in every block the answer position attends to a
   * token listed here with weight ∝ exp(score), to every other token with weight ∝ 1. A listed token needs its own row
   * (its row class is what the keys read). The attention output stays zero, so the logits do not change.
   */
  attend?: Record<string, number>;
}

export interface SynthInfo {
  path: string;
  /** Token text of every id (index = id): specials, byte tokens, then the pieces. */
  vocab: string[];
  /** Id of each token text (pieces, "<unk>", "<s>", "</s>", "<0xXX>"). */
  ids: Record<string, number>;
  /** Embedding width d (number of row classes incl. the default, rounded up to even, ≥ 2). */
  nEmbd: number;
  /** Whether the tokenizer prepends a space at the start of a text. */
  addSpacePrefix: boolean;
}

/** Token type codes (llama.cpp enum llama_token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
/** Id of the first byte token <0x00>; <0xXX> has id BYTE_BASE + XX. */
export const BYTE_BASE = 3;
/** Id of the first piece. */
export const PIECE_BASE = BYTE_BASE + 256;

/** Logit given to tokens a row leaves out: exp(-1e4) underflows to exactly 0 in float32. */
export const ZERO_LOGIT = -1e4;
export const RMS_EPS = 1e-5;
const SUM_TOLERANCE = 1e-6;

export function byteTokenText(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
}

const SPECIAL_TEXT = ["<unk>", "<s>", "</s>"];
const spaceHint = (tok: string): string => (tok.includes(" ") ? ` (write spaces as "${SPACE_MARK}")` : "");
const BYTE_TEXT_RE = /^<0x[0-9A-F]{2}>$/;

/** A built model: the GGUF contents plus the vocabulary facts. */
export interface BuiltBigram {
  file: GgufFile;
  vocab: string[];
  ids: Record<string, number>;
  nEmbd: number;
  addSpacePrefix: boolean;
  /** Tokenizer view of the vocabulary (for spmTokenize). */
  spm: SpmVocab;
  /** Row class of each token id (0 = default row). */
  classOf: Int32Array;
  /** Each row class's non-zero probabilities (token id -> probability, renormalised to sum 1). */
  classRows: ReadonlyArray<ReadonlyMap<number, number>>;
}

/** A row's token ids and probabilities; InputError naming the row and the fix when a token is unknown or a value is bad. */
export function validateRow(where: string, row: Record<string, number>, idOf: ReadonlyMap<string, number>, hint = spaceHint): Map<number, number> {
  const entries = Object.entries(row);
  if (entries.length === 0) throw new InputError(`synth: ${where} is empty; give at least one token with probability > 0`);
  let sum = 0;
  const out = new Map<number, number>();
  for (const [tok, p] of entries) {
    const id = idOf.get(tok);
    if (id === undefined) {
      throw new InputError(`synth: ${where} names unknown token ${JSON.stringify(tok)}${hint(tok)}; add it to ${hint === spaceHint ? "pieces" : "tokens"} or remove it from the row`);
    }
    if (typeof p !== "number" || !Number.isFinite(p) || p < 0) {
      throw new InputError(`synth: ${where} gives ${JSON.stringify(tok)} probability ${String(p)}; probabilities must be finite and ≥ 0`);
    }
    sum += p;
    if (p > 0) out.set(id, p);
  }
  if (Math.abs(sum - 1) > SUM_TOLERANCE) {
    throw new InputError(`synth: ${where} sums to ${sum}, not 1 (tolerance ${SUM_TOLERANCE}); fix the probabilities`);
  }
  return out;
}

/** Build the GGUF contents of a bigram model (validates the spec; throws InputError with the reason). */
export function buildBigramModel(spec: BigramSpec): BuiltBigram {
  if (!Array.isArray(spec.pieces) || spec.pieces.length === 0) throw new InputError("synth: pieces must be a non-empty array of strings");

  // --- vocabulary
  const vocab: string[] = [...SPECIAL_TEXT];
  for (let b = 0; b < 256; b++) vocab.push(byteTokenText(b));
  const byteType = spec.byteFallback === false ? TOKEN_TYPE.unused : TOKEN_TYPE.byte;
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control, ...new Array<number>(256).fill(byteType)];
  const idOf = new Map<string, number>();
  vocab.forEach((t, i) => idOf.set(t, i));
  for (const p of spec.pieces) {
    if (typeof p !== "string" || p === "") throw new InputError(`synth: piece ${JSON.stringify(p)} is not a non-empty string`);
    if (p.includes(" ")) throw new InputError(`synth: piece ${JSON.stringify(p)} contains a space; write spaces as "${SPACE_MARK}" (e.g. "${p.replaceAll(" ", SPACE_MARK)}")`);
    if (SPECIAL_TEXT.includes(p) || BYTE_TEXT_RE.test(p)) throw new InputError(`synth: piece ${JSON.stringify(p)} collides with a special or byte token`);
    if (idOf.has(p)) throw new InputError(`synth: piece ${JSON.stringify(p)} is listed twice`);
    idOf.set(p, vocab.length);
    vocab.push(p);
    types.push(TOKEN_TYPE.normal);
  }
  // Scores: the piece's length in characters, so the tokenizer merges towards longer pieces first
  // (specials and byte tokens: 0; they never take part in merges).
  const scores = new Float32Array(vocab.length);
  for (let i = PIECE_BASE; i < vocab.length; i++) scores[i] = Array.from(vocab[i] as string).length;
  const byteIds = Array.from({ length: 256 }, (_, b) => BYTE_BASE + b);
  const spm: SpmVocab = { ids: idOf, scores, byteIds };

  // Every piece must be producible: tokenizing the piece's own text must give that piece.
  const unreachable: string[] = [];
  for (let i = PIECE_BASE; i < vocab.length; i++) {
    const toks = spmTokenize(spm, (vocab[i] as string).replaceAll(SPACE_MARK, " "), false);
    if (toks.length !== 1 || toks[0] !== i) unreachable.push(vocab[i] as string);
  }
  if (unreachable.length > 0) {
    throw new InputError(
      `synth: the tokenizer can never produce ${unreachable.map((p) => JSON.stringify(p)).join(", ")}: ` +
        `every intermediate merge must be a piece (e.g. "▁1," needs "▁1" or "1,"); pass pieces through completePieces()`,
    );
  }

  // --- rows: class 0 = default row, class k = k-th own row
  const nPieces = vocab.length - PIECE_BASE;
  const defaultRow: Map<number, number> = spec.defaultRow
    ? validateRow("defaultRow", spec.defaultRow, idOf)
    : new Map(Array.from({ length: nPieces }, (_, i) => [PIECE_BASE + i, 1 / nPieces] as [number, number]));
  const classRows: Map<number, number>[] = [defaultRow];
  const classOf = new Int32Array(vocab.length); // 0 = default
  for (const [tok, row] of Object.entries(spec.rows ?? {})) {
    const id = idOf.get(tok);
    if (id === undefined) throw new InputError(`synth: rows has a row for unknown token ${JSON.stringify(tok)}; add it to pieces or remove the row`);
    classOf[id] = classRows.length;
    classRows.push(validateRow(`row ${JSON.stringify(tok)}`, row, idOf));
  }
  const lens = spec.lens ? { layer: spec.lens.layer, before: validateRow("lens.before", spec.lens.before, idOf) } : undefined;
  let attend: Map<number, number> | undefined;
  if (spec.attend) {
    attend = new Map();
    for (const [tok, score] of Object.entries(spec.attend)) {
      const id = idOf.get(tok);
      if (id === undefined || classOf[id] === 0) throw new InputError(`synth: attend names ${JSON.stringify(tok)}, which has no row of its own; give it a row in rows`);
      if (!Number.isFinite(score)) throw new InputError(`synth: attend score of ${JSON.stringify(tok)} must be a finite number`);
      attend.set(classOf[id]!, score);
    }
  }
  const model = bigramTensors(vocab.length, classOf, classRows, spec.compute, "llama", lens, attend);

  const addSpacePrefix = spec.addSpacePrefix ?? false;
  const metadata: Array<[string, GgufValue]> = [
    ...architectureMetadata("llama", spec.name ?? "ptalign-synth-bigram", model, spec.contextLength),
    ["tokenizer.ggml.model", gguf.str("llama")],
    ["tokenizer.ggml.tokens", gguf.strs(vocab)],
    ["tokenizer.ggml.scores", gguf.f32s(scores)],
    ["tokenizer.ggml.token_type", gguf.i32s(types)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(BOS_ID)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(EOS_ID)],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(UNK_ID)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(true)],
    ["tokenizer.ggml.add_eos_token", gguf.bool(false)],
    ["tokenizer.ggml.add_space_prefix", gguf.bool(addSpacePrefix)],
  ];
  if (spec.chatTemplate !== undefined) metadata.push(["tokenizer.chat_template", gguf.str(spec.chatTemplate)]);

  return { file: { metadata, tensors: model.tensors, alignment: 32 }, vocab, ids: Object.fromEntries(idOf), nEmbd: model.nEmbd, addSpacePrefix, spm, classOf, classRows: model.classRows };
}

/** The tensors of a bigram model and the facts its metadata needs (shared by the SentencePiece and BPE builders). */
export interface BigramTensors {
  tensors: GgufTensor[];
  /** Embedding width d. */
  nEmbd: number;
  nLayers: number;
  nFf: number;
  nVocab: number;
  /** Each row class's probabilities renormalised to sum exactly 1. */
  classRows: ReadonlyArray<ReadonlyMap<number, number>>;
  /** <arch>.rope.freq_base when the model attends (BigramSpec.attend); llama.cpp's default otherwise. */
  ropeBase?: number;
}

/** RoPE base of attending models: the head's last pair turns by pos × 1e30^(−(d−2)/d), nothing at any position. */
export const ATTEND_ROPE_BASE = 1e30;

/**
 * The weights that make the logits after a token of row class c exactly log p of class c's row (see the header).
 * `classOf[v]` is token v's class (0 = default row); `classRows[c]` maps token id -> probability (> 0).
 * `arch` "qwen2" adds the zero q/k/v biases that llama.cpp requires for that architecture.
 */
export function bigramTensors(
  nVocab: number,
  classOf: Int32Array,
  classRows: ReadonlyArray<ReadonlyMap<number, number>>,
  compute: BigramSpec["compute"],
  arch: SynthArch = "llama",
  lens?: LensPlan,
  attend?: ReadonlyMap<number, number>,
): BigramTensors {
  const nClasses = classRows.length;
  // Extra width, layers and feed-forward size change the cost of a token, never its logits (all block outputs are 0).
  // A lens plan doubles the width: class c's token enters as e_{N+c} ("before" direction), block `layer` moves it to e_c.
  // Attention scores live in the head's last pair of dimensions, which RoPE must leave unrotated: at least 4 wide.
  const wide = Math.max(lens ? 2 * nClasses : nClasses, compute?.width ?? 0, attend ? 4 : 0);
  const d = Math.max(2, wide + (wide % 2));
  if (lens && (!Number.isInteger(lens.layer) || lens.layer < 0)) throw new InputError(`synth: lens.layer must be a block index ≥ 0, got ${lens.layer}`);
  const nLayers = Math.max(compute?.layers ?? 1, lens ? lens.layer + 1 : 1);
  const nFf = Math.max(compute?.feedForward ?? 2, lens ? nClasses : 0);
  const entry = lens ? nClasses : 0;

  const tokEmbd = new Float32Array(d * nVocab); // [d, n_vocab]: n_vocab rows of d
  for (let v = 0; v < nVocab; v++) tokEmbd[v * d + entry + (classOf[v] as number)] = 1;
  // [d, n_vocab]: row v holds token v's logit per class; tokens a row leaves out get ZERO_LOGIT
  const output = new Float32Array(d * nVocab).fill(ZERO_LOGIT);
  const normalised = classRows.map((row) => {
    let sum = 0;
    for (const p of row.values()) sum += p;
    return new Map([...row].map(([v, p]) => [v, p / sum] as [number, number]));
  });
  normalised.forEach((row, c) => {
    for (const [v, p] of row) output[v * d + c] = Math.log(p);
  });
  for (let v = 0; v < nVocab; v++) for (let c = nClasses; c < d; c++) output[v * d + c] = 0; // unused width: never selected
  const eps = Math.fround(RMS_EPS); // the engine reads the epsilon as float32
  const normScale = Math.sqrt(1 / d + eps);
  const ffn = (i: number) => {
    const gate = zeros(d * nFf);
    const up = zeros(d * nFf);
    const down = zeros(nFf * d);
    if (lens && i === lens.layer) {
      // ffn_norm(e_{N+c}) = e_{N+c} / sqrt(1/d + eps): gate and up of hidden unit c read 1 there, so h_c = silu(1) and
      // ffn_down column c adds (e_c − e_{N+c}) / silu(1): the residual becomes e_c (up to float32 rounding, ~1e-7).
      const silu1 = 1 / (1 + Math.exp(-1));
      for (let c = 0; c < nClasses; c++) {
        gate[c * d + nClasses + c] = normScale;
        up[c * d + nClasses + c] = normScale;
        down[c * nFf + c] = 1 / silu1;
        down[(nClasses + c) * nFf + c] = -1 / silu1;
      }
    }
    return { gate, up, down };
  };
  if (lens) {
    // Column N+c: the `before` row for every class. Tokens it leaves out get BEFORE_FLOOR, not ZERO_LOGIT: the ~1e-7
    // left on this direction after block `layer` multiplies the column, and −1e4 would move the rows' logits by ~1e-3.
    let sum = 0;
    for (const p of lens.before.values()) sum += p;
    for (let c = 0; c < nClasses; c++) {
      for (let v = 0; v < nVocab; v++) output[v * d + nClasses + c] = BEFORE_FLOOR;
      for (const [v, p] of lens.before) output[v * d + nClasses + c] = Math.log(p / sum);
    }
  }
  const ones = new Float32Array(d).fill(1);
  const zeros = (n: number): Float32Array => new Float32Array(n);
  const biases = (i: number): GgufTensor[] =>
    arch === "qwen2"
      ? [
          { name: `blk.${i}.attn_q.bias`, dims: [d], data: zeros(d) },
          { name: `blk.${i}.attn_k.bias`, dims: [d], data: zeros(d) },
          { name: `blk.${i}.attn_v.bias`, dims: [d], data: zeros(d) },
        ]
      : [];
  // attend: q and k in head dimension d−2, the pair RoPE turns by pos·base^(−(d−2)/d) — nothing with base 1e30
  // (ATTEND_ROPE_BASE). attn_norm(e_j) = e_j / sqrt(1/d + eps) = e_j / normScale, so q = 1 for every token and
  // k = score·sqrt(d) for a listed token's class (either entry direction), giving q·k/sqrt(d) = score.
  const attention = () => {
    const q = zeros(d * d);
    const k = zeros(d * d);
    if (attend) {
      const a = d - 2;
      const used = lens ? 2 * nClasses : nClasses;
      for (let j = 0; j < used; j++) q[a * d + j] = normScale;
      for (const [c, score] of attend) {
        k[a * d + c] = score * Math.sqrt(d) * normScale;
        if (lens) k[a * d + nClasses + c] = score * Math.sqrt(d) * normScale;
      }
    }
    return { q, k };
  };
  const qk = attention();
  const tensors: GgufTensor[] = [
    { name: "token_embd.weight", dims: [d, nVocab], data: tokEmbd },
    ...Array.from({ length: nLayers }, (_, i) => [
      { name: `blk.${i}.attn_norm.weight`, dims: [d], data: ones },
      { name: `blk.${i}.attn_q.weight`, dims: [d, d], data: qk.q },
      { name: `blk.${i}.attn_k.weight`, dims: [d, d], data: qk.k },
      { name: `blk.${i}.attn_v.weight`, dims: [d, d], data: zeros(d * d) },
      ...biases(i),
      { name: `blk.${i}.attn_output.weight`, dims: [d, d], data: zeros(d * d) },
      { name: `blk.${i}.ffn_norm.weight`, dims: [d], data: ones },
      { name: `blk.${i}.ffn_gate.weight`, dims: [d, nFf], data: ffn(i).gate },
      { name: `blk.${i}.ffn_up.weight`, dims: [d, nFf], data: ffn(i).up },
      { name: `blk.${i}.ffn_down.weight`, dims: [nFf, d], data: ffn(i).down },
    ]).flat(),
    { name: "output_norm.weight", dims: [d], data: new Float32Array(d).fill(normScale) },
    { name: "output.weight", dims: [d, nVocab], data: output },
  ];
  return { tensors, nEmbd: d, nLayers, nFf, nVocab, classRows: normalised, ...(attend ? { ropeBase: ATTEND_ROPE_BASE } : {}) };
}

/** Where a model writes its rows (BigramSpec.lens) with token ids. */
export interface LensPlan {
  layer: number;
  before: ReadonlyMap<number, number>;
}

/** Logit of tokens the lens's `before` row leaves out: exp(−30) ≈ 1e-13 of the mass per token. */
export const BEFORE_FLOOR = -30;

/** Architectures the builders write: both read the same tensors (qwen2 adds q/k/v biases). */
export type SynthArch = "llama" | "qwen2";

/** general.* and <arch>.* metadata of a bigram model. */
export function architectureMetadata(arch: SynthArch, name: string, model: BigramTensors, contextLength = 4096): Array<[string, GgufValue]> {
  const d = model.nEmbd;
  return [
    ["general.architecture", gguf.str(arch)],
    ["general.name", gguf.str(name)],
    ["general.alignment", gguf.u32(32)],
    ["general.file_type", gguf.u32(0)], // ALL_F32
    [`${arch}.context_length`, gguf.u32(contextLength)],
    [`${arch}.embedding_length`, gguf.u32(d)],
    [`${arch}.block_count`, gguf.u32(model.nLayers)],
    [`${arch}.feed_forward_length`, gguf.u32(model.nFf)],
    [`${arch}.attention.head_count`, gguf.u32(1)],
    [`${arch}.attention.head_count_kv`, gguf.u32(1)],
    [`${arch}.rope.dimension_count`, gguf.u32(d)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(RMS_EPS)],
    [`${arch}.vocab_size`, gguf.u32(model.nVocab)],
    ...(model.ropeBase !== undefined ? [[`${arch}.rope.freq_base`, gguf.f32(model.ropeBase)] as [string, GgufValue]] : []),
  ];
}

/** Write a bigram model to `path` (validates the spec first; throws InputError on a bad spec). */
export async function writeBigramModel(path: string, spec: BigramSpec): Promise<SynthInfo> {
  const built = buildBigramModel(spec);
  await writeGguf(path, built.file);
  return { path, vocab: built.vocab, ids: built.ids, nEmbd: built.nEmbd, addSpacePrefix: built.addSpacePrefix };
}

/**
 * The exact next-token distribution after token `id` (float64, token id -> probability; ids not in the
 * map have probability 0). This is what the engine should report, up to float32 rounding. Takes a built SentencePiece
 * or BPE model (buildBpeBigramModel) too.
 */
export function nextTokenProbabilities(model: BigramSpec | Pick<BuiltBigram, "file" | "vocab" | "classOf" | "classRows">, id: number): ReadonlyMap<number, number> {
  const built = "file" in model ? model : buildBigramModel(model);
  if (!Number.isInteger(id) || id < 0 || id >= built.vocab.length) throw new RangeError(`synth: token id ${id} is outside the vocabulary`);
  return built.classRows[built.classOf[id] as number] as ReadonlyMap<number, number>;
}

/** Predict llama.cpp's token ids for `text` under a spec's vocabulary (no BOS), without loading the engine. */
export function tokenizeWithSpec(spec: BigramSpec | BuiltBigram, text: string): number[] {
  const built = "file" in spec ? spec : buildBigramModel(spec);
  return spmTokenize(built.spm, text, built.addSpacePrefix);
}
