// A mean with its 95% percentile bootstrap interval over clusters of values (runs, or the steps of one run): the
// values of one cluster stay together, since the steps of one run share its history.
import { quantileSorted } from "../classify/bootstrap.ts";
import { makeRng } from "../rng.ts";

export interface Estimate {
  /** The pooled mean of every value; null when there is none. */
  value: number | null;
  /** 95% percentile interval of the pooled mean over resampled clusters; null with fewer than 2 clusters holding values. */
  ci: [number, number] | null;
}

/** Resamples drawn: enough for stable 2.5% / 97.5% percentiles at the third decimal, cheap on pooled means. */
export const BOOTSTRAP_RESAMPLES = 2000;

/** Pooled mean of every value, and its percentile interval over `resamples` resamplings of the clusters (seeded). */
export function bootstrapMeans(clusters: readonly (readonly number[])[], seed: number, resamples = BOOTSTRAP_RESAMPLES): Estimate {
  const kept = clusters.filter((c) => c.length > 0);
  const sums = kept.map((c) => c.reduce((a, b) => a + b, 0));
  const sizes = kept.map((c) => c.length);
  const n = sizes.reduce((a, b) => a + b, 0);
  if (n === 0) return { value: null, ci: null };
  const value = sums.reduce((a, b) => a + b, 0) / n;
  if (kept.length < 2) return { value, ci: null };
  const rng = makeRng(`${seed}:bootstrap`);
  const means: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    let m = 0;
    for (let i = 0; i < kept.length; i++) {
      const j = Math.floor(rng() * kept.length);
      s += sums[j]!;
      m += sizes[j]!;
    }
    means.push(s / m);
  }
  means.sort((a, b) => a - b);
  return { value, ci: [quantileSorted(means, 0.025), quantileSorted(means, 0.975)] };
}
