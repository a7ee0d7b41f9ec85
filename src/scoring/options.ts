import { InputError } from "../errors.ts";
import type { Vocabulary } from "../backends/types.ts";
import { toBytes } from "../backends/vocab.ts";

/**
 * The texts the model must write for each answer at one step: separator + answer + delimiter, as bytes.
 * The delimiter is what tells "1" from "10"; no answer may contain it, or one answer's text could be a prefix of another's.
 */
export function optionTexts(support: readonly string[], separator: string, delimiter: string): string[] {
  for (const answer of support) {
    if (delimiter !== "" && answer.includes(delimiter)) {
      throw new InputError(`answer "${answer}" contains the delimiter "${delimiter}"; choose answers without it or another delimiter`);
    }
  }
  return support.map((a) => toBytes(separator + a + delimiter));
}

/**
 * The shortest token sequence that writes `bytes` exactly (dynamic programming over byte offsets), or null when the
 * vocabulary cannot write it. Used to check answers up front and to append an answer no scored path ended on.
 */
export function shortestSpelling(vocab: Vocabulary, bytes: string): number[] | null {
  const best: (number[] | null)[] = new Array(bytes.length + 1).fill(null);
  best[0] = [];
  for (let i = 0; i < bytes.length; i++) {
    const here = best[i];
    if (!here) continue;
    for (let j = i + 1; j <= bytes.length; j++) {
      const ids = vocab.exact(bytes.slice(i, j));
      if (ids.length === 0) continue;
      const candidate = [...here, ids[0]!];
      const there = best[j];
      if (!there || candidate.length < there.length) best[j] = candidate;
    }
  }
  return best[bytes.length] ?? null;
}

/** Throws the user-facing error when an answer cannot be written by the model's tokenizer at all. */
export function assertExpressible(vocab: Vocabulary, support: readonly string[], texts: readonly string[]): void {
  texts.forEach((text, i) => {
    if (!shortestSpelling(vocab, text)) {
      throw new InputError(`the model's tokenizer cannot write the answer "${support[i]}" (no token sequence spells ${JSON.stringify(Buffer.from(text, "latin1").toString("utf8"))}); choose answers made of characters the model knows`);
    }
  });
}
