// ε computed exactly under the model's P_token policy, for small pools: every ranking prefix the model can reach is
// read once (depth first) and ε(d) = Σ over prefixes of P(prefix) · e_k(prefix) · P_token(d | prefix). A pool of N
// documents has at most Σ_{k=1}^{N−1} N!/(N−k)! prefixes to read (5: 205, 6: 1 236, 7: 8 659, 8: 69 280, 10: 6.2
// million), so `--exposure exact` is refused above EXACT_MAX_POOL. Branches the model gives probability 0 are not
// followed (a deterministic ranker costs N − 1 readings).

import type { Model } from "../../backends/index.ts";
import { scoreState } from "../choice/score.ts";
import type { SearchQuery } from "./data.ts";
import { rankExposures, targetStep, type BrowsingModel } from "./exposure.ts";
import { docLabel, searchPrompt, type RankSettings } from "./rank.ts";

export const EXACT_MAX_POOL = 7;

/** Prefixes to read for a pool of n at most (the cost `--dry-run` quotes). */
export function exactReadings(n: number): number {
  let total = 0;
  let perms = 1;
  for (let k = 1; k < n; k++) total += perms *= n - k + 1;
  return total;
}

export async function exactExposure(model: Model, q: SearchQuery, s: RankSettings, b: BrowsingModel, key: string): Promise<{ eps: number[]; readings: number } | { eps: null; reason: string }> {
  const grades = q.pool.map((d) => d.grade);
  const gmax = Math.max(0, ...grades);
  const eps = new Array<number>(grades.length).fill(0);
  let readings = 0;
  // After a document of grade g at a rank of exposure e, the next rank's exposure (RBP: γe; cascade: γe(1 − φ(g))).
  const next = (e: number, g: number) => e * rankExposures([g, 0], b, gmax)[1]!;
  const visit = async (shown: number[], remaining: number[], e: number, prob: number): Promise<string | null> => {
    if (remaining.length === 1) {
      eps[remaining[0]!]! += prob * e;
      return null;
    }
    const got = await scoreState(model, searchPrompt(q, shown), remaining.map(docLabel), targetStep(grades, remaining), s, `${key}/exact/${shown.join(",")}`);
    readings++;
    if (got.ptoken === null) return `rank ${shown.length + 1} after ${shown.map(docLabel).join(", ") || "nothing"}: ${got.reason}`;
    for (const [j, d] of remaining.entries()) {
      const p = got.ptoken[j]!;
      if (p === 0) continue;
      eps[d]! += prob * p * e;
      const why = await visit([...shown, d], remaining.filter((x) => x !== d), next(e, grades[d]!), prob * p);
      if (why) return why;
    }
    return null;
  };
  const why = await visit([], q.pool.map((_, i) => i), 1, 1);
  return why ? { eps: null, reason: why } : { eps, readings };
}
