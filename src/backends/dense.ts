import type { Logits } from "./types.ts";

/**
 * The whole next-token distribution as a read-only Map view over float32 logits: p_v = exp(logit_v − logZ) is computed
 * when asked, so an evaluation costs one pass over the logits (the normaliser) instead of sorting the vocabulary and
 * building a Map of every token. Iteration walks token ids in order. Hot paths (temperature, entropy, sampling) read
 * `logits` directly (scoring/temperature.ts).
 */
export class DenseProbs implements ReadonlyMap<number, number> {
  constructor(readonly logits: Logits) {}

  get size(): number {
    return this.logits.values.length;
  }

  get(token: number): number | undefined {
    const l = this.logits.values[token];
    return l === undefined || !Number.isInteger(token) ? undefined : Math.exp(l - this.logits.logZ);
  }

  has(token: number): boolean {
    return Number.isInteger(token) && token >= 0 && token < this.size;
  }

  *entries(): MapIterator<[number, number]> {
    const { values, logZ } = this.logits;
    for (let v = 0; v < values.length; v++) yield [v, Math.exp(values[v]! - logZ)];
  }

  *keys(): MapIterator<number> {
    for (let v = 0; v < this.size; v++) yield v;
  }

  *values(): MapIterator<number> {
    for (const [, p] of this.entries()) yield p;
  }

  [Symbol.iterator](): MapIterator<[number, number]> {
    return this.entries();
  }

  forEach(cb: (value: number, key: number, map: ReadonlyMap<number, number>) => void): void {
    for (const [v, p] of this.entries()) cb(p, v, this);
  }
}

/** log Σ exp(x_v), shifted by the maximum so that nothing overflows (double precision accumulation). */
export function logSumExp(x: Float32Array, scale = 1): number {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! > max) max = x[i]!;
  if (max === -Infinity) return -Infinity;
  const m = max * scale;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i]! * scale - m);
  return m + Math.log(s);
}
