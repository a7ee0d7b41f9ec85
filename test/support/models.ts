import { completePieces, dLikeSpec, writeBigramModel, type BigramSpec } from "../../src/synth/index.ts";
import { cachedModel } from "./modelCache.ts";

/**
 * A bigram model over the answers 1..12 where "1" is a prefix of "10", "11" and "12", answers take one to three
 * tokens, two tokenisations reach the same answer (" 1," = "▁1" "," and "▁" "1" ","), and some paths leave the
 * support. Rows (next-token probabilities after a token):
 *   after the prompt or ",": ▁1 .5, ▁2 .2, ▁5 .1, ▁ .1, x .1
 *   ▁1: "," .4, 0 .3, 1 .2, 2 .1      0: "," .9, 0 .1      1: "," .6, 2 .4      2: "," 1
 *   ▁2: "," 1      ▁5: "," .5, 5 .5      5: "," 1      ▁: 1 .5, 2 .5
 * Chain rule, every path written out:
 *   " 1,"  = ▁1 ,  .5×.4 = .20        + ▁ 1 ,  .1×.5×.6 = .03            → .23
 *   " 2,"  = ▁2 ,  .2×1  = .20        + ▁ 2 ,  .1×.5×1  = .05            → .25
 *   " 5,"  = ▁5 ,  .1×.5 = .05                                            → .05
 *   " 10," = ▁1 0 , .5×.3×.9 = .135                                       → .135
 *   " 11," = ▁1 1 , .5×.2×.6 = .06                                        → .06
 *   " 12," = ▁1 2 , .5×.1×1 = .05     + ▁ 1 2 , .1×.5×.4×1 = .02          → .07
 *   leak   = ▁1 0 0 .015 + ▁1 1 2 .04 + ▁5 5 .05 + x .1                   → .205   (total 1.000)
 */
export const MULTI_TOKEN_RAW: Record<string, number> = { "1": 0.23, "2": 0.25, "5": 0.05, "10": 0.135, "11": 0.06, "12": 0.07 };
export const MULTI_TOKEN_LEAK = 0.205;

export function multiTokenSpec(): BigramSpec {
  const start = { "▁1": 0.5, "▁2": 0.2, "▁5": 0.1, "▁": 0.1, x: 0.1 };
  return {
    name: "multi-token",
    pieces: completePieces(["▁", ",", "0", "1", "2", "5", "x", "▁1", "▁2", "▁5"]),
    defaultRow: start,
    rows: {
      ",": start,
      "▁1": { ",": 0.4, "0": 0.3, "1": 0.2, "2": 0.1 },
      "0": { ",": 0.9, "0": 0.1 },
      "1": { ",": 0.6, "2": 0.4 },
      "2": { ",": 1 },
      "▁2": { ",": 1 },
      "▁5": { ",": 0.5, "5": 0.5 },
      "5": { ",": 1 },
      "▁": { "1": 0.5, "2": 0.5 },
    },
  };
}

/** The multi-token model, from the shared model cache (`dir` is kept for the callers; the file lives in the cache). */
export async function writeMultiTokenModel(_dir: string): Promise<string> {
  const spec = multiTokenSpec();
  return cachedModel("multi-token.gguf", spec, (path) => writeBigramModel(path, spec));
}

/** D-like model over 1..4: after the prompt q = [.02,.94,.02,.02]; after sample k, .94 on answer (k+1) mod 4. */
export const D_PEAK = 0.94;
export function dLikeExpected(previous: string | null): number[] {
  const support = ["1", "2", "3", "4"];
  const at = previous === null ? 1 : (support.indexOf(previous) + 1) % 4;
  return support.map((_, i) => (i === at ? D_PEAK : (1 - D_PEAK) / 3));
}

/** The D-like model, from the shared model cache (`dir` is kept for the callers; the file lives in the cache). */
export async function writeDLikeModel(_dir: string): Promise<string> {
  const spec = dLikeSpec(["1", "2", "3", "4"], { peak: D_PEAK, first: 1 });
  return cachedModel("d-like.gguf", spec, (path) => writeBigramModel(path, spec));
}
