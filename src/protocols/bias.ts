// Per-answer logit bias → per-token bias (docs/metrics.md, "Correction"). The bias must reach every way the model
// writes an answer: a SentencePiece model may spell " 1," as "▁" + "1" + "," while its vocabulary also holds the
// byte-fallback token <0x31> for "1"; biasing only one spelling (the old shortest-spelling rule took <0x31>, which
// that model never writes) leaves the answer's mass untouched.
import type { Vocabulary } from "../backends/types.ts";

/** Tokenisations of one answer considered at most (byte fallback doubles them per character: a bound keeps it linear). */
export const MAX_SPELLINGS = 256;

/** Every token sequence that writes `bytes` exactly (every split, every token with those bytes), fewest tokens first, at most `cap`. */
export function allSpellings(vocab: Vocabulary, bytes: string, cap = MAX_SPELLINGS): number[][] {
  const out: number[][] = [];
  // Breadth first by number of tokens, so that a cap drops the longest (least likely) spellings first.
  let frontier: { at: number; tokens: number[] }[] = [{ at: 0, tokens: [] }];
  while (frontier.length > 0 && out.length < cap) {
    const next: typeof frontier = [];
    for (const f of frontier) {
      for (let j = f.at + 1; j <= bytes.length; j++) {
        for (const id of vocab.exact(bytes.slice(f.at, j))) {
          const tokens = [...f.tokens, id];
          if (j === bytes.length) {
            if (out.length < cap) out.push(tokens);
          } else if (next.length < cap * 8) next.push({ at: j, tokens });
        }
      }
    }
    frontier = next;
  }
  return out;
}

/**
 * Each answer's bias goes on the first distinguishing token of every spelling of it (separator + answer + delimiter):
 * the first token at which no spelling of another answer has the same tokens so far ("1" vs "10": "▁1" is shared, so
 * "1" gets "," and "10" gets "0"; "▁" + "1" + "," and "▁" + "<0x31>" + "," both get the bias, on "1" and on
 * <0x31>). Every path that writes the answer then carries its bias once, whichever tokenisation the model uses.
 * The bias is context-free, as the APIs apply it; biases landing on the same token add up.
 */
export function answerTokenBias(backend: { vocab: Vocabulary }, support: readonly string[], texts: readonly string[], bias: Record<string, number>): Map<number, number> {
  const spellings = texts.map((t) => allSpellings(backend.vocab, t));
  // For every token prefix, the answers that have a spelling starting with it.
  const owners = new Map<string, Set<number>>();
  spellings.forEach((list, i) =>
    list.forEach((s) => {
      for (let j = 0; j < s.length; j++) {
        const key = s.slice(0, j + 1).join(",");
        let set = owners.get(key);
        if (!set) owners.set(key, (set = new Set()));
        set.add(i);
      }
    }),
  );
  const out = new Map<number, number>();
  support.forEach((answer, i) => {
    const b = bias[answer];
    if (b === undefined || b === 0) return;
    const tokens = new Set<number>();
    for (const s of spellings[i]!) {
      let j = 0;
      while (j < s.length - 1 && owners.get(s.slice(0, j + 1).join(","))!.size > 1) j++;
      tokens.add(s[j]!);
    }
    for (const token of tokens) out.set(token, (out.get(token) ?? 0) + b);
  });
  return out;
}
