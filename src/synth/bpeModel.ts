// Bigram GGUF models with a byte-level BPE vocabulary (tokenizer.ggml.model = "gpt2") shaped like a real model
// family: its pre-tokenizer, special tokens, BOS/EOS, chat template and (optionally) its vocabulary size. The weights
// are the bigram construction of bigram.ts (docs/synth.md): the next-token distribution depends only on the last
// token and is exactly the chosen row.

import { InputError } from "../errors.ts";
import type { Target } from "../types.ts";
import { architectureMetadata, bigramTensors, byteTokenText, TOKEN_TYPE, validateRow, type BigramSpec, type SynthInfo } from "./bigram.ts";
import { gpt2ByteToUnicode } from "../backends/vocab.ts";
import { byteDecode, byteEncode, bpeTokenize, leftChainMerges, preTokenize, type BpeVocab } from "./bpe.ts";
import { BPE_FAMILIES, type BpeFamily, type BpeFamilyName } from "./families.ts";
import { gguf, writeGguf, type GgufFile, type GgufValue } from "./gguf.ts";

export interface BpeBigramSpec {
  /** Tokenizer + template family: "qwen2.5" (every digit a token, ChatML), "llama3" (1-3 digits a token), "mistral-nemo" ([INST], Tekken). */
  family: BpeFamilyName;
  /**
   * Normal tokens besides the 256 byte tokens and the family's own (Llama-3: all 1-3 digit strings), as plain text
   * (" cat" with a real space). Each must be a whole word of the family's pre-tokenizer, or the tokenizer could never
   * produce it (" 1" is two words everywhere: " " and "1"). Intermediate merges are added.
   */
  tokens?: string[];
  /**
   * Next-token probabilities after a token, keyed by its plain text: any normal token (" " is the space token, "\n"
   * the newline), a special such as "<|im_end|>", or "<0xXX>" for a single-byte token. Values must sum to 1 (1e-6).
   */
  rows: Record<string, Record<string, number>>;
  /** Row after any token without its own row; default: uniform over the byte tokens and `tokens`. */
  defaultRow?: Record<string, number>;
  /** tokenizer.chat_template: default the family's real template; null writes none (prompts go in raw). */
  chatTemplate?: string | null;
  /**
   * n_vocab: a number pads the vocabulary with filler tokens (never produced by the tokenizer, probability 0) up to it;
   * "real" uses the family's real size (151,936 / 128,256 / 131,072). Default: only the tokens the model needs.
   */
  vocabSize?: number | "real";
  name?: string;
  compute?: BigramSpec["compute"];
  contextLength?: number;
}

export interface BuiltBpeBigram {
  file: GgufFile;
  family: BpeFamily;
  /** Plain text of every token id ("<0xXX>" for bytes that are not UTF-8 on their own; fillers "[PADn]"). */
  vocab: string[];
  /** Id of each token's plain text (fillers left out). */
  ids: Record<string, number>;
  nEmbd: number;
  /** Tokenizer view (for bpeTokenize). */
  bpe: BpeVocab;
  classOf: Int32Array;
  classRows: ReadonlyArray<ReadonlyMap<number, number>>;
  bos: number;
  eos: number;
}

const BYTE_CHARS = gpt2ByteToUnicode();

/** Byte values in the order of GPT-2's bytes_to_unicode (printable bytes first): real vocabularies start with them. */
function byteOrder(): number[] {
  // Printable bytes stand for themselves (< U+0100), the others for U+0100.. in byte order: sorting by character is that order.
  return Array.from({ length: 256 }, (_, b) => b).sort((a, b) => (BYTE_CHARS[a] as string).charCodeAt(0) - (BYTE_CHARS[b] as string).charCodeAt(0));
}

/** Plain text of a byte-alphabet token; bytes that do not form UTF-8 are written <0xXX>. */
function plainText(encoded: string): string {
  const bytes = byteDecode(encoded) as string;
  const text = Buffer.from(bytes, "latin1").toString("utf8");
  if (Buffer.from(text, "utf8").toString("latin1") === bytes) return text;
  return Array.from(bytes, (c) => byteTokenText(c.charCodeAt(0))).join("");
}

/** Build the GGUF contents of a BPE bigram model (validates the spec; throws InputError with the reason). */
export function buildBpeBigramModel(spec: BpeBigramSpec): BuiltBpeBigram {
  const family = BPE_FAMILIES[spec.family];
  if (!family) throw new InputError(`synth: unknown family ${JSON.stringify(spec.family)}; use one of ${Object.keys(BPE_FAMILIES).join(", ")}`);
  const specials = new Set([...family.leadingSpecials, ...family.trailingSpecials]);
  for (const t of spec.tokens ?? []) {
    if (typeof t !== "string" || t === "") throw new InputError(`synth: token ${JSON.stringify(t)} is not a non-empty string`);
    if (specials.has(t)) throw new InputError(`synth: token ${JSON.stringify(t)} is a special token of ${family.name}; it is already there`);
  }

  // --- vocabulary: leading specials | 256 bytes | merged tokens | fillers | trailing specials
  const texts: string[] = []; // byte alphabet for normal tokens, raw text for specials
  const types: number[] = [];
  const push = (text: string, type: number) => {
    texts.push(text);
    types.push(type);
  };
  for (const s of family.leadingSpecials) push(s, TOKEN_TYPE.control);
  const byteChars = byteOrder().map((b) => BYTE_CHARS[b] as string);
  for (const ch of byteChars) push(ch, TOKEN_TYPE.normal);
  const wanted = [...family.baseTokens(), ...(spec.tokens ?? [])].map(byteEncode).filter((t) => Array.from(t).length >= 2);
  const { tokens: merged, merges } = leftChainMerges(wanted);
  const seen = new Set(texts);
  for (const t of merged) {
    if (seen.has(t)) continue;
    seen.add(t);
    push(t, TOKEN_TYPE.normal);
  }
  const minimal = texts.length + family.trailingSpecials.length;
  const size = spec.vocabSize === "real" ? family.realVocabSize : (spec.vocabSize ?? minimal);
  if (!Number.isInteger(size) || size < minimal) {
    throw new InputError(`synth: vocabSize ${String(spec.vocabSize)} is below the ${minimal} tokens this model needs; pass at least ${minimal} (or "real")`);
  }
  const firstFiller = texts.length;
  // Fillers are normal tokens no text tokenizes to ("[PAD" is split by every pre-tokenizer and no merge builds it):
  // user-defined tokens would be matched in every text llama.cpp tokenizes, which costs ~n_vocab per text.
  for (let id = texts.length; texts.length < size - family.trailingSpecials.length; id++) push(`[PAD${id}]`, TOKEN_TYPE.normal);
  const fillerEnd = texts.length;
  for (const s of family.trailingSpecials) push(s, TOKEN_TYPE.control);

  // Token lookups leave the fillers out: no text tokenizes to them and no row may name them.
  const isFiller = (id: number) => id >= firstFiller && id < fillerEnd;
  const encodedIds = new Map<string, number>();
  const idOf = new Map<string, number>();
  const plain: string[] = texts.map((t, id) => {
    if (isFiller(id)) return t;
    const text = types[id] === TOKEN_TYPE.control ? t : plainText(t);
    if (types[id] !== TOKEN_TYPE.control) encodedIds.set(t, id);
    idOf.set(text, id);
    return text;
  });
  for (let b = 0; b < 256; b++) idOf.set(byteTokenText(b), encodedIds.get(BYTE_CHARS[b] as string) as number);
  const bpe: BpeVocab = { ids: encodedIds, ranks: new Map(merges.map((m, i) => [m, i] as [string, number])), pre: family.pre };

  // Every token asked for must be producible: tokenizing its own text must give it.
  const unreachable: string[] = [];
  for (const t of spec.tokens ?? []) {
    const got = bpeTokenize(bpe, t);
    if (got.length !== 1 || got[0] !== idOf.get(t)) unreachable.push(`${JSON.stringify(t)} (words ${preTokenize(family.pre, t).map((w) => JSON.stringify(w)).join(" + ")})`);
  }
  if (unreachable.length > 0) {
    throw new InputError(`synth: the ${family.pre} tokenizer can never produce ${unreachable.join(", ")}; give tokens that are whole words of its pre-tokenizer`);
  }

  // --- rows
  const hint = (tok: string) => (tok.includes("Ġ") || tok.includes("▁") ? ' (write spaces as plain " ")' : "");
  const defaultIds = [...byteChars.map((ch) => encodedIds.get(ch) as number), ...(spec.tokens ?? []).map((t) => idOf.get(t) as number)];
  const defaultRow = spec.defaultRow
    ? validateRow("defaultRow", spec.defaultRow, idOf, hint)
    : new Map(defaultIds.map((id) => [id, 1 / defaultIds.length] as [number, number]));
  const classRows: Map<number, number>[] = [defaultRow];
  const classOf = new Int32Array(size);
  for (const [tok, row] of Object.entries(spec.rows ?? {})) {
    const id = idOf.get(tok);
    if (id === undefined) throw new InputError(`synth: rows has a row for unknown token ${JSON.stringify(tok)}${hint(tok)}; add it to tokens or remove the row`);
    classOf[id] = classRows.length;
    classRows.push(validateRow(`row ${JSON.stringify(tok)}`, row, idOf, hint));
  }
  const model = bigramTensors(size, classOf, classRows, spec.compute, family.arch);

  const bos = idOf.get(family.bos) as number;
  const eos = idOf.get(family.eos) as number;
  const metadata: Array<[string, GgufValue]> = [
    ...architectureMetadata(family.arch, spec.name ?? `ptalign-synth-${family.name}`, model, spec.contextLength),
    ["tokenizer.ggml.model", gguf.str("gpt2")],
    ["tokenizer.ggml.pre", gguf.str(family.pre)],
    ["tokenizer.ggml.tokens", gguf.strs(texts)],
    ["tokenizer.ggml.token_type", gguf.i32s(types)],
    ["tokenizer.ggml.merges", gguf.strs(merges)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(bos)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(eos)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(family.addBos)],
    ["tokenizer.ggml.add_eos_token", gguf.bool(false)],
  ];
  const template = spec.chatTemplate === undefined ? family.chatTemplate : spec.chatTemplate;
  if (template !== null) metadata.push(["tokenizer.chat_template", gguf.str(template)]);

  const ids: Record<string, number> = Object.fromEntries(idOf);
  return { file: { metadata, tensors: model.tensors, alignment: 32 }, family, vocab: plain, ids, nEmbd: model.nEmbd, bpe, classOf, classRows: model.classRows, bos, eos };
}

/** Write a BPE bigram model to `path` (validates the spec first; throws InputError on a bad spec). */
export async function writeBpeBigramModel(path: string, spec: BpeBigramSpec): Promise<SynthInfo & { bos: number; eos: number }> {
  const built = buildBpeBigramModel(spec);
  await writeGguf(path, built.file);
  return { path, vocab: built.vocab, ids: built.ids, nEmbd: built.nEmbd, addSpacePrefix: false, bos: built.bos, eos: built.eos };
}

/** Predict llama.cpp's token ids for `text` (no BOS, specials not parsed), without loading the engine. */
export function tokenizeWithBpeSpec(spec: BpeBigramSpec | BuiltBpeBigram, text: string): number[] {
  const built = "file" in spec ? spec : buildBpeBigramModel(spec);
  return bpeTokenize(built.bpe, text);
}

export interface BpeELikeOptions {
  vocabSize?: number | "real";
  /** Per-token cost of a bigger model (benchmarks); the logits stay exact. */
  compute?: BigramSpec["compute"];
  chatTemplate?: string | null;
  name?: string;
}

/**
 * The protocol's text (a prompt, then samples " a," one after another) on a BPE family: each sample is written as its
 * pre-tokenizer words (" ", "1", "2", "," on qwen2.5; " ", "12", "," on llama3), each word one token. The rows are
 * the bigram fit of `target` (row[prev][next] ∝ the target mass of the answers that go from prev to next; after ","
 * and any token without a row, the first words), so P_token equals `target` exactly when no token is shared by two
 * answers at different places (llama3 with answers of up to 3 digits, any family with one-token answers). Where it
 * is shared (qwen2.5's "1" in 1, 10, 11, 12) the bigram cannot tell the places apart: the model then writes other
 * numbers too ("111", leak) and P_token differs from `target` by the exact amount docs/synth.md works out.
 */
export function bpeELikeSpec(family: BpeFamilyName, target: Target, options: BpeELikeOptions = {}): BpeBigramSpec {
  if (!BPE_FAMILIES[family]) throw new InputError(`synth: unknown family ${JSON.stringify(family)}; use one of ${Object.keys(BPE_FAMILIES).join(", ")}`);
  if (target.support.length < 2 || target.probs.length !== target.support.length) throw new InputError("synth: a target needs at least 2 answers and one probability per answer");
  const pre = BPE_FAMILIES[family].pre;
  // Transition masses: start[w] = mass of the answers whose first word is w; counts[prev][next] likewise.
  const start = new Map<string, number>();
  const counts = new Map<string, Map<string, number>>();
  const add = (row: Map<string, number>, to: string, p: number) => row.set(to, (row.get(to) ?? 0) + p);
  const tokens = new Set<string>();
  target.support.forEach((a, i) => {
    if (a === "" || /[\s,]/u.test(a)) throw new InputError(`synth: answer ${JSON.stringify(a)} must be non-empty without spaces or commas (samples are written as " a,")`);
    const words = preTokenize(pre, ` ${a},`);
    words.forEach((w) => tokens.add(w));
    const p = target.probs[i] as number;
    add(start, words[0] as string, p);
    for (let k = 1; k < words.length; k++) {
      const from = words[k - 1] as string;
      if (!counts.has(from)) counts.set(from, new Map());
      add(counts.get(from) as Map<string, number>, words[k] as string, p);
    }
  });
  const normalised = (row: Map<string, number>) => {
    let sum = 0;
    for (const v of row.values()) sum += v;
    return Object.fromEntries([...row].filter(([, v]) => v > 0).map(([k, v]) => [k, v / sum]));
  };
  const first = normalised(start);
  const rows: Record<string, Record<string, number>> = { ",": first };
  for (const [from, row] of counts) rows[from] = normalised(row);
  return {
    family,
    tokens: [...tokens].filter((t) => Array.from(byteEncode(t)).length >= 2),
    rows,
    defaultRow: first,
    vocabSize: options.vocabSize,
    compute: options.compute,
    chatTemplate: options.chatTemplate,
    name: options.name ?? `ptalign-synth-${family}-e`,
  };
}
