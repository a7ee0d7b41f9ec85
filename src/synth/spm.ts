// A re-implementation of llama.cpp's SentencePiece ("llama" vocabulary) tokenizer, for checking a
// synthetic vocabulary before it is written and for predicting token ids without loading the engine.
//
// How llama.cpp tokenizes a text with an SPM vocabulary (llm_tokenizer_spm_session in llama-vocab.cpp):
//  1. If tokenizer.ggml.add_space_prefix is true (the default when the key is absent) and the text is
//     at the start (or follows a special token), a space is prepended. Every " " becomes "▁".
//  2. The text is split into UTF-8 characters: these are the initial symbols. A single character does
//     NOT have to be in the vocabulary to take part in a merge.
//  3. Every adjacent pair whose concatenation is a vocabulary token is queued with that token's score.
//     The best pair is merged (highest score; on a tie the leftmost), and the merged symbol's new pairs
//     are queued. Repeat until no pair forms a token.
//  4. Each final symbol is emitted as its token; a symbol that is not a token (a lone character missing
//     from the vocabulary) is emitted as byte tokens <0xXX>, one per UTF-8 byte.
// Consequence: a multi-character piece is only ever produced if it can be built by successive binary
// merges whose every intermediate result is itself a vocabulary token. "▁1," needs "▁1" or "1," in the
// vocabulary; "▁10," needs e.g. "▁1" and "▁10" (or "0," and "10,", ...). `completePieces` adds them.

/** Visible stand-in for a space in SentencePiece pieces. */
export const SPACE_MARK = "▁";

export interface SpmVocab {
  /** Token text -> id (all tokens: specials, byte tokens and pieces). */
  ids: ReadonlyMap<string, number>;
  /** Score of each token id (float32 values as stored in the GGUF). */
  scores: ArrayLike<number>;
  /** Id of the byte token <0xXX> for each byte value 0..255. */
  byteIds: readonly number[];
}

interface Symbol {
  start: number; // index into chars
  n: number; // number of characters (0 once merged away)
  prev: number;
  next: number;
}

interface Bigram {
  left: number;
  right: number;
  score: number;
  size: number;
}

/** True when a should be popped before b (llama.cpp comparator: higher score, then smaller left index). */
function better(a: Bigram, b: Bigram): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

/** Binary max-heap ordered by `better`. */
class Heap {
  private items: Bigram[] = [];
  get size(): number {
    return this.items.length;
  }
  push(b: Bigram): void {
    const a = this.items;
    a.push(b);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(a[i] as Bigram, a[p] as Bigram)) break;
      [a[i], a[p]] = [a[p] as Bigram, a[i] as Bigram];
      i = p;
    }
  }
  pop(): Bigram | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && better(a[l] as Bigram, a[m] as Bigram)) m = l;
        if (r < a.length && better(a[r] as Bigram, a[m] as Bigram)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Bigram, a[i] as Bigram];
        i = m;
      }
    }
    return top;
  }
}

/** Replace spaces with "▁" (llama.cpp llama_escape_whitespace). */
export function escapeSpaces(text: string): string {
  return text.replaceAll(" ", SPACE_MARK);
}

/**
 * Tokenize text the way llama.cpp does for an SPM vocabulary, without BOS and without parsing special
 * tokens. `addSpacePrefix` mirrors tokenizer.ggml.add_space_prefix.
 */
export function spmTokenize(vocab: SpmVocab, text: string, addSpacePrefix = false): number[] {
  if (text === "") return [];
  const chars = Array.from(escapeSpaces(addSpacePrefix ? " " + text : text));
  const symbols: Symbol[] = chars.map((_, i) => ({ start: i, n: 1, prev: i - 1, next: i + 1 < chars.length ? i + 1 : -1 }));
  const textOf = (start: number, n: number): string => chars.slice(start, start + n).join("");
  const heap = new Heap();
  const revMerge = new Map<string, [number, number]>();

  const tryAdd = (left: number, right: number): void => {
    if (left === -1 || right === -1) return;
    const l = symbols[left] as Symbol;
    const r = symbols[right] as Symbol;
    const text = textOf(l.start, l.n + r.n);
    const id = vocab.ids.get(text);
    if (id === undefined) return;
    heap.push({ left, right, score: vocab.scores[id] as number, size: l.n + r.n });
    revMerge.set(text, [left, right]);
  };

  for (let i = 1; i < symbols.length; i++) tryAdd(i - 1, i);
  while (heap.size > 0) {
    const b = heap.pop() as Bigram;
    const l = symbols[b.left] as Symbol;
    const r = symbols[b.right] as Symbol;
    if (l.n === 0 || r.n === 0 || l.n + r.n !== b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) (symbols[r.next] as Symbol).prev = b.left;
    tryAdd(l.prev, b.left);
    tryAdd(b.left, l.next);
  }

  const out: number[] = [];
  const resegment = (s: Symbol): void => {
    const text = textOf(s.start, s.n);
    const id = vocab.ids.get(text);
    if (id !== undefined) {
      out.push(id);
      return;
    }
    const m = revMerge.get(text);
    if (m === undefined) {
      for (const byte of Buffer.from(text, "utf8")) out.push(vocab.byteIds[byte] as number);
      return;
    }
    resegment(symbols[m[0]] as Symbol);
    resegment(symbols[m[1]] as Symbol);
  };
  for (let i = symbols.length > 0 ? 0 : -1; i !== -1; i = (symbols[i] as Symbol).next) resegment(symbols[i] as Symbol);
  return out;
}

/**
 * Return `pieces` plus whatever is needed for each of them to be produced by the tokenizer with the
 * length-based scores that writeBigramModel uses: every prefix of a multi-character piece (so "▁10,"
 * brings "▁1" and "▁10"), and every single character (so a lone "," is its own token rather than the
 * byte token <0x2C>). Original pieces keep their order; additions follow in first-needed order.
 */
export function completePieces(pieces: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (p !== "" && !seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const p of pieces) add(p);
  for (const p of pieces) {
    const cs = Array.from(p);
    for (const c of cs) add(c);
    for (let k = 2; k < cs.length; k++) add(cs.slice(0, k).join(""));
  }
  return out;
}
