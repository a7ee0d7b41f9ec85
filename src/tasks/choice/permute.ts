// Option order: labels are positional (A is the first option shown), so re-ordering a context moves the options'
// texts and targets under fixed labels. Order stability compares P_token per option (by key) across orders.

import { makeRng } from "../../rng.ts";
import type { ChoiceContext } from "./types.ts";

/** The label of position i: A … Z, then AA, AB, … (spreadsheet columns). */
export function letterLabel(i: number): string {
  let s = "";
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/**
 * `count` orders of n options other than the identity, drawn with a generator seeded by `key`: every non-identity
 * order once (in a seeded order) when n! − 1 ≤ count, otherwise distinct random ones. n = 1 has none.
 */
export function permutationsOf(n: number, count: number, key: string): number[][] {
  if (n < 2 || count <= 0) return [];
  const rng = makeRng(`${key}/order`);
  const identity = Array.from({ length: n }, (_, i) => i);
  const all: number[][] = [];
  if (n <= 6) {
    const rec = (prefix: number[], rest: number[]) => {
      if (rest.length === 0) return void all.push(prefix);
      rest.forEach((v, i) => rec([...prefix, v], [...rest.slice(0, i), ...rest.slice(i + 1)]));
    };
    rec([], identity);
    const others = shuffle(all.slice(1), rng);
    return others.slice(0, count);
  }
  const seen = new Set<string>([identity.join(",")]);
  const out: number[][] = [];
  for (let tries = 0; out.length < count && tries < count * 50; tries++) {
    const p = shuffle(identity, rng);
    const k = p.join(",");
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

function shuffle<T>(xs: readonly T[], rng: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The context shown in `order` (order[j] = which original option goes to position j); labels stay positional. */
export function permuteContext(ctx: ChoiceContext, order: readonly number[]): ChoiceContext {
  const labels = ctx.options.map((o) => o.label);
  return {
    ...ctx,
    options: order.map((i, j) => ({ ...ctx.options[i]!, label: labels[j]! })),
    target: order.map((i) => ctx.target[i]!),
    ...(ctx.counts ? { counts: order.map((i) => ctx.counts![i]!) } : {}),
  };
}
