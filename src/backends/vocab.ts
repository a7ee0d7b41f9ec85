import type { Vocabulary } from "./types.ts";

/** Latin1 "binary string" of a text's UTF-8 bytes: byte-exact matching with plain string operations. */
export function toBytes(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

export function fromBytes(bytes: string): string {
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** A vocabulary index over token bytes: exact lookup by map, prefix ranges by binary search over sorted bytes. */
export function buildVocabulary(tokenBytes: readonly string[]): Vocabulary {
  const byBytes = new Map<string, number[]>();
  tokenBytes.forEach((b, id) => {
    if (b === "") return;
    const list = byBytes.get(b);
    if (list) list.push(id);
    else byBytes.set(b, [id]);
  });
  const sorted = [...byBytes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lowerBound = (key: string): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    size: tokenBytes.length,
    bytes: (token) => tokenBytes[token] ?? "",
    exact: (bytes) => byBytes.get(bytes) ?? [],
    extending(prefix) {
      const out: number[] = [];
      for (let i = lowerBound(prefix); i < sorted.length && sorted[i]!.startsWith(prefix); i++) {
        if (sorted[i]!.length > prefix.length) out.push(...byBytes.get(sorted[i]!)!);
      }
      return out;
    },
  };
}

/**
 * GPT-2's byte-level BPE alphabet (`bytes_to_unicode` in GPT-2's encoder.py, `unicode_byte_to_utf8_map` in llama.cpp):
 * entry b is the printable character that stands for byte b in token texts and merges. Printable Latin-1 bytes
 * (33..126, 161..172, 174..255) stand for themselves; the others (controls, space, 127..160, 173) are mapped in
 * order to U+0100.. (so a space is "Ġ" U+0120 and a newline "Ċ" U+010A).
 */
export function gpt2ByteToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++));
  return out;
}

// GPT-2 byte-level BPE writes each byte as a printable unicode character; this is the inverse of its table.
function gpt2ByteDecoder(): Map<string, number> {
  return new Map(gpt2ByteToUnicode().map((ch, b) => [ch, b] as [string, number]));
}

// GGUF token types (llama.cpp): 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
const NORMAL = 1;
const USER_DEFINED = 4;
const BYTE = 6;

/**
 * The bytes each token writes, read from the GGUF tokenizer metadata. Returns null for tokenizer models whose
 * piece encoding we do not decode (the caller then falls back to the engine's detokenizer).
 */
export function tokenBytesFromGguf(model: string, tokens: readonly string[], types: readonly number[] | undefined): string[] | null {
  const typeOf = (i: number) => types?.[i] ?? NORMAL;
  if (model === "llama") {
    return tokens.map((piece, i) => {
      const type = typeOf(i);
      if (type === BYTE) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
        return m ? String.fromCharCode(parseInt(m[1]!, 16)) : "";
      }
      if (type !== NORMAL && type !== USER_DEFINED) return "";
      return toBytes(piece.replaceAll("\u2581", " "));
    });
  }
  if (model === "gpt2") {
    const decoder = gpt2ByteDecoder();
    return tokens.map((piece, i) => {
      const type = typeOf(i);
      if (type === USER_DEFINED) return toBytes(piece);
      if (type !== NORMAL) return "";
      let out = "";
      for (const ch of piece) {
        const b = decoder.get(ch);
        if (b === undefined) return toBytes(piece); // not byte-encoded (some converters store added tokens raw)
        out += String.fromCharCode(b);
      }
      return out;
    });
  }
  return null;
}
