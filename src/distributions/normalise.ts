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
