// Attention from the answer position, per block, split by where the attended tokens sit in the context: the earlier
// samples (everything after the prompt), the target's description inside the prompt, and the rest of the prompt.
import type { Inside, Vocabulary } from "../backends/types.ts";
import type { AttentionLayer } from "./types.ts";

export interface Regions {
  /** Tokens of the prompt (the samples start here). */
  promptTokens: number;
  /** Token index range [start, end) of the target's description in the prompt; null when the prompt does not spell it. */
  target: [number, number] | null;
}

/** Where the target's description (its text as the prompt writes it) sits among the prompt's tokens, by their bytes. */
export function regionsOf(vocab: Vocabulary, promptTokens: readonly number[], description: string): Regions {
  const starts: number[] = [];
  let text = "";
  for (const t of promptTokens) {
    starts.push(text.length);
    text += vocab.bytes(t);
  }
  const needle = Buffer.from(description, "utf8").toString("latin1");
  const at = needle.length > 0 ? text.lastIndexOf(needle) : -1;
  if (at < 0) return { promptTokens: promptTokens.length, target: null };
  const end = at + needle.length;
  // Every token that writes at least one byte of the description.
  let first = -1;
  let last = -1;
  promptTokens.forEach((t, i) => {
    const s = starts[i]!;
    const e = s + vocab.bytes(t).length;
    if (e > at && s < end) {
      if (first < 0) first = i;
      last = i;
    }
  });
  return { promptTokens: promptTokens.length, target: first < 0 ? null : [first, last + 1] };
}

/** Per block: the mass on each region, the mean over heads (and per head when asked). */
export function attentionByRegion(attention: Inside["attention"], regions: Regions, contextLength: number, perHead: boolean): AttentionLayer[] {
  return attention.map((a, layer) => {
    const heads: [number, number, number][] = [];
    for (let h = 0; h < a.heads; h++) {
      let history = 0;
      let target = 0;
      let prompt = 0;
      const row = a.weights.subarray(h * a.positions, h * a.positions + Math.min(a.positions, contextLength));
      row.forEach((w, p) => {
        if (p >= regions.promptTokens) history += w;
        else if (regions.target && p >= regions.target[0] && p < regions.target[1]) target += w;
        else prompt += w;
      });
      heads.push([history, target, prompt]);
    }
    const mean = (i: 0 | 1 | 2) => heads.reduce((s, h) => s + h[i], 0) / Math.max(1, heads.length);
    return { layer, history: mean(0), target: mean(1), prompt: mean(2), ...(perHead ? { heads } : {}) };
  });
}
