// Generated models for the benchmarks: a test model's next-token table, padded to a real vocabulary size and made to
// cost per token like a real transformer, so that the harness's per-vocabulary work and the engine's are both real.
import type { BigramSpec } from "../src/synth/index.ts";

/** The spec with single-character filler pieces (CJK and beyond) until the vocabulary has `size` tokens; the rows are unchanged. */
export function padVocabulary(spec: BigramSpec, size: number): BigramSpec {
  const specials = 3 + 256;
  const pieces = [...spec.pieces];
  const have = new Set(pieces);
  for (let cp = 0x4e00; pieces.length + specials < size; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (!have.has(ch)) pieces.push(ch);
  }
  return { ...spec, pieces };
}
