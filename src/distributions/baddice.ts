// The 15 distributions of "Large Language Models Are Bad Dice Players" (arXiv 2601.05414), with the paper's
// parameters, as DIST text: `--target baddice:gaussian`. Continuous ones are binned at the run's --precision
// (default 1), except Cauchy: its 99.9% range (−637..637) needs 12,733 bins at precision 1, so it is written
// as integers (1,275 bins). Poisson's tail beyond 15 (6.9e-5) is folded into 15.
export const BADDICE: Readonly<Record<string, string>> = {
  uniform: "cuniform(0,1)",
  gaussian: "normal(0,1)",
  bernoulli: "bernoulli(0.7)",
  beta: "beta(2,2)",
  binomial: "binomial(10,0.5)",
  poisson: "poisson(5,max=15)",
  exponential: "exponential(1)",
  cauchy: "cauchy(0,1,precision=0)",
  student_t: "student_t(3)",
  chi_square: "chi2(5)",
  f: "f(5,10)",
  gamma: "gamma(2,2)",
  weibull: "weibull(1.5,1)",
  laplace: "laplace(0,1)",
  logistic: "logistic(0,1)",
};

export const BADDICE_NAMES = Object.keys(BADDICE);

/** The DIST text of a bad-dice preset, or undefined. */
export function baddice(name: string): string | undefined {
  return Object.hasOwn(BADDICE, name) ? BADDICE[name] : undefined;
}
