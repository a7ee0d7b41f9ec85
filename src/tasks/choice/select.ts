// Which contexts are measured: --limit N (the first N in file order), then --sample N (N drawn with --seed, kept in
// file order), so a subset is reproducible from the flags alone.

import { InputError } from "../../errors.ts";
import { makeRng } from "../../rng.ts";

export function selectContexts<T>(contexts: readonly T[], o: { limit?: number; sample?: number; seed: number }): T[] {
  let xs = o.limit !== undefined ? contexts.slice(0, o.limit) : [...contexts];
  if (o.sample !== undefined) {
    if (o.sample > xs.length) throw new InputError(`--sample ${o.sample} is more than the ${xs.length} contexts${o.limit !== undefined ? " left by --limit" : " in the data"}; sample at most ${xs.length}`);
    const rng = makeRng(`sample/${o.seed}`);
    // Partial Fisher–Yates over indices: the first `sample` positions are a uniform draw without replacement.
    const idx = xs.map((_, i) => i);
    for (let i = 0; i < o.sample; i++) {
      const j = i + Math.floor(rng() * (idx.length - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const keep = new Set(idx.slice(0, o.sample));
    xs = xs.filter((_, i) => keep.has(i));
  }
  return xs;
}
