// Recommendation data: a controlled world generated from a seed (P_task known exactly), or MovieLens files.

import { InputError } from "../../errors.ts";
import { gaussian, makeRng, normalise, drawIndex, type Rng } from "../../rng.ts";

export interface Item {
  id: string;
  title: string;
  /** Categories (genres); an item with several spreads its weight evenly over them. */
  categories: string[];
}

export interface RecUser {
  id: string;
  /** Item indices, oldest first. */
  history: number[];
  /** The item that came next (leave-last-out). */
  held_out: number;
  /** Item indices in the order shown to the model; contains held_out. */
  candidates: number[];
  /** P_task over `candidates` (same order), when known exactly (controlled world). */
  ptask?: number[];
  /** Latent category preferences (controlled world). */
  prefs?: number[];
}

export interface RecData {
  source: "world" | "movielens";
  categories: string[];
  items: Item[];
  users: RecUser[];
  /**
   * MovieLens: the rule that chose the held-out rating among ratings tied at a user's latest timestamp, how many of
   * the sampled users tie there, and how many of the eligible users (before sampling; before dropping under "drop").
   */
  ties?: { rule: "file" | "item-id" | "drop"; tied_users: number; tied_eligible: number; eligible: number };
  /** What the loader decided that the user should know (values clipped, users left out): printed as warnings. */
  notes?: string[];
}

export interface WorldOptions {
  seed: number;
  items: number;
  categories: number;
  users: number;
  history: number;
  candidates: number;
  /** Dirichlet concentration of the users' category preferences (small = each user likes few categories). */
  alpha: number;
}

export const DEFAULT_WORLD: WorldOptions = { seed: 1, items: 40, categories: 5, users: 30, history: 8, candidates: 5, alpha: 0.5 };

const CATEGORY_NAMES = ["comedy", "drama", "horror", "scifi", "romance", "western", "musical", "crime", "fantasy", "war", "sport", "family"];

/** Gamma(shape, 1) draw (Marsaglia–Tsang; shape < 1 by the boost U^(1/shape)). */
function gammaDraw(shape: number, rng: Rng): number {
  if (shape < 1) return gammaDraw(shape + 1, rng) * Math.pow(1 - rng(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = gaussian(rng);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = 1 - rng();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Fisher–Yates shuffle with the seeded generator (a new array). */
export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * The probability that user u picks item i: P(i | u) = θ_u[cat(i)] / n_cat(i) (category by preference, then an
 * item of it uniformly). Items have one category each in the world.
 */
export function itemProbs(prefs: readonly number[], items: readonly Item[], categories: readonly string[]): number[] {
  const counts = categories.map((c) => items.filter((it) => it.categories[0] === c).length);
  return items.map((it) => {
    const k = categories.indexOf(it.categories[0]!);
    return prefs[k]! / counts[k]!;
  });
}

/**
 * A world: C categories, I items (item j in category j mod C, title "<category> <n>"), U users with θ_u ~
 * Dirichlet(α), a history of H distinct items drawn one after another from P(· | u) restricted to items not yet
 * drawn, the next item drawn the same way (held out), and K − 1 negatives drawn uniformly from the remaining items.
 * P_task over the shuffled candidate list = P(i | u) renormalised over the list: the exact distribution of the next
 * item given that it is one of the candidates.
 */
export function generateWorld(opts: WorldOptions = DEFAULT_WORLD): RecData {
  const { items: I, categories: C, users: U, history: H, candidates: K } = opts;
  if (!(C >= 2 && C <= CATEGORY_NAMES.length)) throw new InputError(`--categories must be from 2 to ${CATEGORY_NAMES.length} (got ${C})`);
  if (!(I >= C)) throw new InputError(`--items must be at least the number of categories (got ${I} < ${C})`);
  if (!(K >= 2 && K <= 26)) throw new InputError(`--candidates must be from 2 to 26 (got ${K})`);
  if (!(H >= 1 && H + K <= I)) throw new InputError(`--history + --candidates must fit in --items (got ${H} + ${K} > ${I})`);
  if (!(opts.alpha > 0)) throw new InputError(`--alpha must be > 0 (got ${opts.alpha})`);
  const rng = makeRng(`world/${opts.seed}`);
  const categories = CATEGORY_NAMES.slice(0, C);
  const perCat = new Array<number>(C).fill(0);
  const items: Item[] = Array.from({ length: I }, (_, j) => {
    const c = j % C;
    perCat[c]!++;
    return { id: String(j), title: `${categories[c]} ${perCat[c]}`, categories: [categories[c]!] };
  });
  const users: RecUser[] = [];
  for (let u = 0; u < U; u++) {
    const prefs = normalise(categories.map(() => gammaDraw(opts.alpha, rng)));
    const p = itemProbs(prefs, items, categories);
    const taken = new Set<number>();
    const draw = () => {
      let i = drawIndex(p.map((v, j) => (taken.has(j) ? 0 : v)), rng);
      // Every item left has probability 0 (a preference that underflowed): take one of them uniformly.
      if (i < 0) i = drawIndex(p.map((_, j) => (taken.has(j) ? 0 : 1)), rng);
      taken.add(i);
      return i;
    };
    const history = Array.from({ length: H }, draw);
    const held = draw();
    const rest = shuffled(items.map((_, j) => j).filter((j) => !taken.has(j)), rng).slice(0, K - 1);
    const candidates = shuffled([held, ...rest], rng);
    users.push({ id: `u${u}`, history, held_out: held, candidates, ptask: normalise(candidates.map((j) => p[j]!)), prefs });
  }
  return { source: "world", categories, items, users };
}
