// The full-vocabulary answers of llama-server's /completion (n_probs = vocabulary size: ~84 bytes a token, 12.7 MB
// for a 152k vocabulary) read straight from the response bytes. JSON.parse of such a body builds 150k objects, each
// with a string and an array of byte numbers, only for ptalign to keep two numbers of each; this walks the bytes once
// and keeps (id, logprob) in typed arrays (measured side by side in bench/remote.ts, docs/backends.md).
//
// It is a strict JSON reader, not a pattern match: every value of the body is walked (strings with their escapes,
// numbers, nesting), so a key that only looks right inside a string cannot fool it. Anything it does not expect
// (another shape, a malformed body, an id out of range) makes it return null, and the caller falls back to JSON.parse
// and the zod schemas, which accept what is valid and say what is wrong with what is not.

import { plausible } from "./shapes.ts";

/** The entries in the server's order (most probable first): ids[k] has log-probability logprobs[k] (null → -Infinity). */
export interface ScannedProbs {
  ids: Int32Array;
  logprobs: Float64Array;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

class Malformed extends Error {}
const bad = (): never => {
  throw new Malformed();
};

/**
 * completion_probabilities[0].top_logprobs[] of a /completion body, by token id below `nVocab`; null when the body is
 * anything else (the old `probs` shape, `top_probs`, no ids, invalid JSON, an id outside [0, nVocab)).
 */
export function scanTopLogprobs(buf: Buffer, nVocab: number): ScannedProbs | null {
  try {
    return new Reader(buf, nVocab).body();
  } catch (err) {
    if (err instanceof Malformed) return null;
    throw err;
  }
}

/** Next-token probabilities by id, the same Map (order and values) as JSON.parse + parseNativeProbs give; null as above. */
export function scanNativeProbs(buf: Buffer, nVocab: number): Map<number, number> | null {
  const got = scanTopLogprobs(buf, nVocab);
  if (!got) return null;
  const probs = new Map<number, number>();
  const { ids, logprobs } = got;
  for (let k = 0; k < ids.length; k++) probs.set(ids[k]!, Math.exp(logprobs[k]!));
  // An impossible answer (a duplicate id, a probability above 1) is named by the checked JSON.parse path.
  if (probs.size !== ids.length || !plausible(probs.values())) return null;
  return probs;
}

class Reader {
  private i = 0;
  private readonly n: number;
  private keyStart = 0;
  private keyEnd = 0;

  constructor(
    private readonly b: Buffer,
    private readonly nVocab: number,
  ) {
    this.n = b.length;
  }

  body(): ScannedProbs | null {
    let found: ScannedProbs | null = null;
    if (this.openObject()) {
      do {
        this.key();
        if (this.keyIs("completion_probabilities")) found = this.positions();
        else this.skipValue();
      } while (this.nextMember());
    }
    this.ws();
    if (this.i !== this.n) bad();
    return found;
  }

  /** completion_probabilities: [{…, top_logprobs: [...]}, …]; only the first position is read. */
  private positions(): ScannedProbs {
    let first: ScannedProbs | null = null;
    if (this.openArray()) {
      do {
        if (first !== null) {
          this.skipValue();
          continue;
        }
        if (this.openObject()) {
          do {
            this.key();
            if (this.keyIs("top_logprobs")) first = this.entries();
            else this.skipValue();
          } while (this.nextMember());
        }
        if (first === null) bad(); // another shape (top_probs, probs): the schemas read it
      } while (this.nextElement());
    }
    return first ?? bad();
  }

  /**
   * The hot loop: one {id, token, bytes, logprob} object per token of the vocabulary. The logprob tokens are only
   * located here; they are converted together afterwards by one JSON.parse of a numbers-only array (exact, and a
   * quarter of the cost of converting 150k substrings one by one, measured).
   */
  private entries(): ScannedProbs {
    let ids = new Int32Array(1024);
    let spans = new Int32Array(2048);
    let listed = 0;
    if (this.openArray()) {
      do {
        let id = -1;
        let from = -1;
        let to = -1;
        if (this.openObject()) {
          do {
            this.key();
            if (this.keyIs("id")) id = this.integer();
            else if (this.keyIs("logprob")) {
              this.ws();
              from = this.i;
              if (this.b[this.i] === 0x6e) this.literal("null");
              else this.skipNumber();
              to = this.i;
            } else this.skipValue();
          } while (this.nextMember());
        }
        if (id < 0 || id >= this.nVocab || from < 0) bad();
        if (listed === ids.length) {
          ids = grow(ids);
          spans = grow(spans);
        }
        ids[listed] = id;
        spans[2 * listed] = from;
        spans[2 * listed + 1] = to;
        listed++;
      } while (this.nextElement());
    }
    // "[n0,n1,…]" from the located tokens: JSON's number grammar was checked above, so this parse cannot fail.
    let length = 2;
    for (let k = 0; k < listed; k++) length += spans[2 * k + 1]! - spans[2 * k]! + 1;
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    out[at++] = LBRACKET;
    for (let k = 0; k < listed; k++) {
      if (k > 0) out[at++] = COMMA;
      at += this.b.copy(out, at, spans[2 * k]!, spans[2 * k + 1]!);
    }
    out[at++] = RBRACKET;
    const values = JSON.parse(out.toString("latin1", 0, at)) as (number | null)[];
    const logprobs = new Float64Array(listed);
    for (let k = 0; k < listed; k++) logprobs[k] = values[k] ?? -Infinity;
    return { ids: ids.subarray(0, listed), logprobs };
  }

  // ---- structure ----

  /** Consumes '{'; true when a member follows (else the '}' is consumed too). */
  private openObject(): boolean {
    return this.open(LBRACE, RBRACE);
  }

  /** Consumes '['; true when an element follows (else the ']' is consumed too). */
  private openArray(): boolean {
    return this.open(LBRACKET, RBRACKET);
  }

  private open(start: number, end: number): boolean {
    this.ws();
    if (this.b[this.i] !== start) bad();
    this.i++;
    this.ws();
    if (this.b[this.i] === end) {
      this.i++;
      return false;
    }
    return true;
  }

  /** A member's key and its ':'. */
  private key(): void {
    this.ws();
    this.keyStart = this.i;
    this.skipString();
    this.keyEnd = this.i;
    this.ws();
    if (this.b[this.i] !== COLON) bad();
    this.i++;
  }

  /** After a member: true at ',' (another follows), false at '}'. */
  private nextMember(): boolean {
    return this.next(RBRACE);
  }

  /** After an element: true at ',' (another follows), false at ']'. */
  private nextElement(): boolean {
    return this.next(RBRACKET);
  }

  private next(end: number): boolean {
    this.ws();
    const c = this.b[this.i++];
    if (c === COMMA) return true;
    if (c === end) return false;
    return bad();
  }

  /** Whether the last key read is exactly `name` (ASCII, written without escapes, as every server writes these keys). */
  private keyIs(name: string): boolean {
    if (this.keyEnd - this.keyStart !== name.length + 2) return false;
    for (let k = 0; k < name.length; k++) if (this.b[this.keyStart + 1 + k] !== name.charCodeAt(k)) return false;
    return true;
  }

  private skipValue(): void {
    this.ws();
    const c = this.b[this.i];
    if (c === QUOTE) this.skipString();
    else if (c === LBRACE) {
      if (this.openObject()) {
        do {
          this.key();
          this.skipValue();
        } while (this.nextMember());
      }
    } else if (c === LBRACKET) {
      if (this.skipDigitArray()) return;
      if (this.openArray()) {
        do this.skipValue();
        while (this.nextElement());
      }
    } else if (c === 0x74) this.literal("true");
    else if (c === 0x66) this.literal("false");
    else if (c === 0x6e) this.literal("null");
    else this.skipNumber();
  }

  /**
   * Fast path for the `bytes` arrays: `[` digits (`,` digits)* `]` with no spaces, as llama-server writes them. False
   * (position unchanged) for anything else, which the general path then reads.
   */
  private skipDigitArray(): boolean {
    const b = this.b;
    let i = this.i + 1;
    if (b[i] === RBRACKET) {
      this.i = i + 1;
      return true;
    }
    for (;;) {
      const first = b[i];
      if (first === undefined || first < 0x30 || first > 0x39) return false;
      i++;
      if (first !== 0x30) while (isDigit(b[i])) i++;
      const c = b[i];
      if (c === COMMA) i++;
      else if (c === RBRACKET) {
        this.i = i + 1;
        return true;
      } else return false;
    }
  }

  private skipString(): void {
    const b = this.b;
    if (b[this.i] !== QUOTE) bad();
    let i = this.i + 1;
    for (;;) {
      if (i >= this.n) bad();
      const c = b[i]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const e = b[i + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) if (!isHex(b[i + k])) bad();
          i += 6;
        } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
        else bad();
      } else if (c < 0x20) bad();
      else i++;
    }
    this.i = i + 1;
  }

  private literal(word: string): void {
    for (let k = 0; k < word.length; k++) if (this.b[this.i + k] !== word.charCodeAt(k)) bad();
    this.i += word.length;
  }

  /** Moves past a JSON number token, checking its grammar. */
  private skipNumber(): void {
    const b = this.b;
    let i = this.i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else bad();
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) bad();
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) bad();
      while (isDigit(b[i])) i++;
    }
    this.i = i;
  }

  /** A non-negative integer that fits a token id. */
  private integer(): number {
    this.ws();
    const b = this.b;
    let i = this.i;
    if (!isDigit(b[i])) bad();
    if (b[i] === 0x30 && isDigit(b[i + 1])) bad();
    let v = 0;
    while (isDigit(b[i])) {
      v = v * 10 + (b[i]! - 0x30);
      if (v > 0x7fffffff) bad();
      i++;
    }
    if (b[i] === 0x2e || b[i] === 0x65 || b[i] === 0x45) bad(); // 3.0 or 3e0: let the schemas decide
    this.i = i;
    return v;
  }

  private ws(): void {
    const b = this.b;
    let i = this.i;
    for (;;) {
      const c = b[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
