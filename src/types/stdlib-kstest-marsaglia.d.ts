// stdlib's Marsaglia–Tsang–Wang routine for the exact CDF of the one-sample Kolmogorov statistic D_n, P(D_n < d),
// which @stdlib/stats-kstest uses for its two-sided p-value (the package has no "exports" map, so the file is public).
declare module "@stdlib/stats-kstest/lib/marsaglia.js" {
  function pKolmogorov(d: number, n: number): number;
  export = pKolmogorov;
}
