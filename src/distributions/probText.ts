// A probability as a label prints it: short (4 decimals) where that is honest, more digits where 4 decimals would
// round a probability that is neither 0 nor 1 to 0 or 1 ({a:0.00001,b:0.99999} printed as {a:0,b:1} hid the target).

/** p with 4 decimals, or as many more as keep it off 0 and 1 when it is not 0 or 1 (tiny values in exponent form). */
export function probText(p: number): string {
  if (!Number.isFinite(p) || p === 0 || p === 1) return String(p);
  for (let d = 4; d <= 20; d++) {
    const r = +p.toFixed(d);
    if (r !== 0 && r !== 1) return String(r);
  }
  return String(+p.toPrecision(3)); // below 1e-20: 1e-300 stays 1e-300
}
