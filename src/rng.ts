import seedrandom from "seedrandom";

/** A seeded uniform [0,1) generator; the same seed always gives the same stream (used by protocols and sim). */
export type Rng = () => number;

export function makeRng(seed: number | string): Rng {
  const prng = seedrandom(String(seed));
  return () => prng.double();
}

/** Probabilities at temperature T from probabilities at T = 1: p^(1/T), renormalised. T = 0 gives the argmax (first on ties). */
export function applyTemperature(probs: readonly number[], temperature: number): number[] {
  if (temperature === 1) return normalise(probs);
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
    return probs.map((_, i) => (i === best ? 1 : 0));
  }
  return normalise(temperedWeights(probs, temperature));
}

/**
 * Weights ∝ p^(1/T) for T > 0, not normalised (normalise() of them is applyTemperature's result, bit for bit), so a
 * scoring adapter can hand them to the protocol loop as raw masses. T = 1 gives the probabilities themselves.
 */
export function temperedWeights(probs: readonly number[], temperature: number): number[] {
  if (temperature === 1) return [...probs];
  // Work in log space so that small probabilities raised to large powers do not underflow to an all-zero vector.
  const logs = probs.map((p) => (p > 0 ? Math.log(p) / temperature : -Infinity));
  const max = Math.max(...logs);
  if (max === -Infinity) return probs.map(() => 0);
  return logs.map((l) => Math.exp(l - max));
}

/** Standard normal draw (Box–Muller) from the uniform generator (sim families, synthetic task data). */
export function gaussian(rng: Rng): number {
  const u1 = 1 - rng(); // (0, 1]: log is finite
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}


/** Index drawn from a categorical distribution (need not be normalised) with one uniform draw. */
export function drawIndex(probs: readonly number[], rng: Rng): number {
  const total = probs.reduce((a, b) => a + b, 0);
  // Weights whose sum overflows are drawn from in proportion all the same (one draw, as always).
  if (total === Infinity) return drawIndex(normalise(probs), rng);
  let u = rng() * total;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    last = i;
    u -= probs[i]!;
    if (u < 0) return i;
  }
  return last; // floating-point remainder: the last index with positive mass
}

// Rescaling non-negative weights to sum to 1 without overflow or underflow. Summing first overflows for weights
// near the largest double ([1e308, 1e308] summed to Infinity and became [0, 0]) and loses everything for weights
// near the smallest. Such weights are divided by their maximum first; ordinary ones are divided by their plain sum,
// so every result computed before stays bit-identical (the golden runs).

/** The weights divided by their sum; all zeros when there is nothing to divide by (no positive finite weight). */
export function normalise(values: readonly number[]): number[] {
  const sum = values.reduce((a, b) => a + b, 0);
  if (sum > 1e-290 && Number.isFinite(sum)) return values.map((v) => v / sum);
  const scaled = scaledToMax(values);
  if (!scaled) return values.map(() => 0);
  const total = scaled.reduce((a, b) => a + b, 0);
  return scaled.map((v) => v / total);
}

/** The weights divided by their largest (finite, positive) one; undefined when there is none. */
function scaledToMax(values: readonly number[]): number[] | undefined {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  if (!(max > 0) || !Number.isFinite(max)) return undefined;
  return values.map((v) => v / max);
}
