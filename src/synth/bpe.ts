// A re-implementation of llama.cpp's byte-level BPE tokenizer ("gpt2" vocabularies), for checking a synthetic
// vocabulary before it is written and for predicting token ids without loading the engine.
//
// How llama.cpp tokenizes a text with a BPE vocabulary (llm_tokenizer_bpe_session in llama-vocab.cpp, llama.cpp
// as bundled with node-llama-cpp 3.21.1):
//  1. The pre-tokenizer named by tokenizer.ggml.pre splits the text into words with a regular expression (below,
//     copied from llama-vocab.cpp; llama.cpp runs hand-written equivalents of the qwen2 and llama-bpe ones).
//  2. Each word's UTF-8 bytes are written in GPT-2's byte alphabet (space = "Ġ", newline = "Ċ", ...).
//  3. Pre-tokenizers with ignore_merges (llama-bpe, tekken): a word that is a token as a whole becomes that token.
//  4. Otherwise the word starts as one symbol per byte; the adjacent pair with the lowest merge rank
//     (tokenizer.ggml.merges, "left right", rank = index) is merged, leftmost first on ties, until no pair is a merge.
//  5. Each final symbol is emitted as its token.
// Words never merge across each other: how a number is split into words is the pre-tokenizer's business alone.

import { gpt2ByteToUnicode } from "../backends/vocab.ts";

/** Pre-tokenizers the generated models can name in tokenizer.ggml.pre (all known to the bundled llama.cpp). */
export type PreTokenizer = "qwen2" | "llama-bpe" | "tekken";

/**
 * The regular expressions of each pre-tokenizer, as in llama-vocab.cpp (tekken: the original from Mistral's
 * tokenizer.json, which llama.cpp approximates for std::regex). They differ in how they split digits:
 * qwen2 and tekken make every digit its own word (`\p{N}`), llama-bpe groups up to three (`\p{N}{1,3}`).
 */
export const PRE_TOKENIZER_REGEX: Readonly<Record<PreTokenizer, RegExp>> = {
  qwen2: /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
  "llama-bpe": /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
  tekken:
    /[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
};

/** llama.cpp sets ignore_merges for these pre-tokenizers: a word that is a token is taken whole (step 3 above). */
export const IGNORE_MERGES: Readonly<Record<PreTokenizer, boolean>> = { qwen2: false, "llama-bpe": true, tekken: true };

/** Split a text into the pre-tokenizer's words (text outside every match, if any, is a word of its own). */
export function preTokenize(pre: PreTokenizer, text: string): string[] {
  const words: string[] = [];
  let at = 0;
  for (const m of text.matchAll(PRE_TOKENIZER_REGEX[pre])) {
    if (m[0] === "") continue;
    if (m.index > at) words.push(text.slice(at, m.index));
    words.push(m[0]);
    at = m.index + m[0].length;
  }
  if (at < text.length) words.push(text.slice(at));
  return words;
}

const BYTE_TO_UNICODE = gpt2ByteToUnicode();
const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b] as [string, number]));

/** A text's UTF-8 bytes written in GPT-2's byte alphabet (how token texts and merges are stored in the GGUF). */
export function byteEncode(text: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) out += BYTE_TO_UNICODE[b];
  return out;
}

/** The bytes (latin1 "binary string") that a byte-alphabet token text stands for; null if it is not byte-encoded. */
export function byteDecode(encoded: string): string | null {
  let out = "";
  for (const ch of encoded) {
    const b = UNICODE_TO_BYTE.get(ch);
    if (b === undefined) return null;
    out += String.fromCharCode(b);
  }
  return out;
}

export interface BpeVocab {
  /** Byte-alphabet token text -> id (normal tokens). */
  ids: ReadonlyMap<string, number>;
  /** "left right" (byte alphabet) -> merge rank. */
  ranks: ReadonlyMap<string, number>;
  pre: PreTokenizer;
}

/** The symbols BPE merges one word into (byte-alphabet texts). */
function mergeWord(vocab: BpeVocab, word: string): string[] {
  const symbols = Array.from(word);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const rank = vocab.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return symbols;
    symbols.splice(best, 2, (symbols[best] as string) + (symbols[best + 1] as string));
  }
}

/**
 * Tokenize text the way llama.cpp does for a byte-level BPE vocabulary, without BOS and without parsing special
 * tokens. A final symbol that is not a token (impossible when every merge result is a token, as the builder
 * ensures) becomes one token per byte, as llama.cpp's fallback does when the single bytes are tokens.
 */
export function bpeTokenize(vocab: BpeVocab, text: string): number[] {
  const out: number[] = [];
  for (const word of preTokenize(vocab.pre, text)) {
    const encoded = byteEncode(word);
    const whole = IGNORE_MERGES[vocab.pre] ? vocab.ids.get(encoded) : undefined;
    if (whole !== undefined) {
      out.push(whole);
      continue;
    }
    for (const symbol of mergeWord(vocab, encoded)) {
      const id = vocab.ids.get(symbol);
      if (id !== undefined) out.push(id);
      else for (const ch of symbol) if (vocab.ids.has(ch)) out.push(vocab.ids.get(ch) as number);
    }
  }
  return out;
}

/**
 * Merges that build every multi-byte token of `tokens` (byte-alphabet texts) from its bytes, left to right:
 * "abc" is "ab" + "c", which needs "ab" = "a" + "b". Returns the tokens with the intermediates added (after the
 * given ones, in first-needed order) and the merges, shortest results first, so a token's own chain is ranked in
 * the order its merges apply.
 */
export function leftChainMerges(tokens: readonly string[]): { tokens: string[]; merges: string[] } {
  const all: string[] = [];
  const seen = new Set<string>();
  const add = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      all.push(t);
    }
  };
  for (const t of tokens) add(t);
  for (const t of tokens) {
    const chars = Array.from(t);
    for (let k = 2; k < chars.length; k++) add(chars.slice(0, k).join(""));
  }
  const multi = all.map((t) => Array.from(t)).filter((c) => c.length >= 2);
  multi.sort((a, b) => a.length - b.length); // stable: ties keep first-needed order
  return { tokens: all, merges: multi.map((c) => `${c.slice(0, -1).join("")} ${c.at(-1) as string}`) };
}
