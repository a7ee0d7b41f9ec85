// Expected Exposure (Diaz, Mitra, Ekstrand, Biega, Carterette, CIKM 2020) for one query's pool: exposure of a rank
// under a browsing model, the target exposure ε* of the exposure-fair policy (documents of one grade equally
// likely, higher grades first), EE-L / EE-D / EE-R, and nDCG@k. Pure functions over arrays: a reader of the result
// JSON recomputes every number from the pool, the grades, the patience and ε (docs/tasks.md).

export type Browsing = "rbp" | "cascade";

export interface BrowsingModel {
  kind: Browsing;
  /** γ: the chance of going on to the next rank (RBP's patience). */
  patience: number;
}

/**
 * Cascade: the reader goes on from rank k with probability γ·(1 − φ(grade at k)), φ(g) = (2^g − 1) / 2^gmax
 * (ERR's stopping probability, Chapelle et al. 2009); gmax = the pool's largest grade. RBP is the cascade with φ = 0.
 */
export function stopProbability(grade: number, gmax: number): number {
  return gmax <= 0 ? 0 : (2 ** grade - 1) / 2 ** gmax;
}

/** Exposure of each rank of a ranking whose documents have `grades` (in rank order). */
export function rankExposures(grades: readonly number[], b: BrowsingModel, gmax: number): number[] {
  const out: number[] = [];
  let e = 1;
  for (const g of grades) {
    out.push(e);
    e *= b.patience * (b.kind === "cascade" ? 1 - stopProbability(g, gmax) : 1);
  }
  return out;
}

/**
 * ε*: the expected exposure of each document under the exposure-fair policy. Its grade order is fixed, so rank k's
 * exposure is fixed too, and a document of a grade with m documents and b of higher grades gets the mean exposure
 * of ranks b+1 … b+m. Under RBP that is (γ^b − γ^(b+m)) / (m(1 − γ)) (γ = 1: 1).
 */
export function targetExposure(grades: readonly number[], b: BrowsingModel): number[] {
  const gmax = Math.max(0, ...grades);
  if (b.kind === "rbp") {
    return grades.map((g) => {
      const higher = grades.filter((x) => x > g).length;
      const m = grades.filter((x) => x === g).length;
      return rbpGroupExposure(higher, m, b.patience);
    });
  }
  const sorted = [...grades].sort((x, y) => y - x);
  const ranks = rankExposures(sorted, b, gmax);
  return grades.map((g) => {
    const at = sorted.flatMap((x, k) => (x === g ? [ranks[k]!] : []));
    return at.reduce((s, x) => s + x, 0) / at.length;
  });
}

/** (γ^b − γ^(b+m)) / (m(1 − γ)): the closed form of Diaz et al.'s eq. for RBP. */
export function rbpGroupExposure(higher: number, m: number, gamma: number): number {
  if (gamma === 1) return 1;
  return (gamma ** higher - gamma ** (higher + m)) / (m * (1 - gamma));
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

export interface ExposureMetrics {
  /** ‖ε − ε*‖²: how far the exposure is from the fair target (lower is better). */
  ee_l: number;
  /** ‖ε‖²: disparity, how unequally exposure is spread (lower = more equal). */
  ee_d: number;
  /** εᵀε*: relevance, exposure put on what deserves it (higher is better). */
  ee_r: number;
}

/** EE-L = EE-D − 2·EE-R + ‖ε*‖², unnormalised as in the paper. */
export function expectedExposureMetrics(eps: readonly number[], target: readonly number[]): ExposureMetrics {
  return { ee_l: eps.reduce((s, x, i) => s + (x - target[i]!) ** 2, 0), ee_d: dot(eps, eps), ee_r: dot(eps, target) };
}

/**
 * Normalised EE-R and EE-D (named fields of their own): EE-R over its largest value for this pool, ‖ε*‖² (reached
 * by the target itself), and EE-D over the largest disparity, that of one deterministic ranking (Σ_k e_k²).
 */
export function normalisedExposure(m: ExposureMetrics, target: readonly number[], grades: readonly number[], b: BrowsingModel): { ee_r: number; ee_d: number } {
  const best = dot(target, target);
  const sorted = [...grades].sort((x, y) => y - x);
  const ranks = rankExposures(sorted, b, Math.max(0, ...grades));
  const worst = dot(ranks, ranks);
  return { ee_r: best > 0 ? m.ee_r / best : 0, ee_d: worst > 0 ? m.ee_d / worst : 0 };
}

/** nDCG@k of one ranking (grades in rank order) against the pool's grades: linear gain g, log2(k + 1) discount (trec_eval). */
export function ndcgAt(ranked: readonly number[], pool: readonly number[], k: number): number | null {
  const dcg = (gs: readonly number[]) => gs.slice(0, k).reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
  const ideal = dcg([...pool].sort((x, y) => y - x));
  return ideal > 0 ? dcg(ranked) / ideal : null;
}

/**
 * The target policy's distribution at one step: uniform over the remaining documents of the best remaining grade.
 * `remaining` are pool indices; returns one probability per remaining document.
 */
export function targetStep(grades: readonly number[], remaining: readonly number[]): number[] {
  const best = Math.max(...remaining.map((i) => grades[i]!));
  const m = remaining.filter((i) => grades[i] === best).length;
  return remaining.map((i) => (grades[i] === best ? 1 / m : 0));
}
