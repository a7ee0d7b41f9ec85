import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { answerOfValue, BADDICE_NAMES, parseAnswerNumber, parseDist } from "../../src/distributions/index.ts";

// Independent reference: scipy 1.17 (norm, gamma(2, scale=2), f, weibull_min(1.5), t, beta, logistic, laplace, chi2,
// cauchy, expon, uniform): bin k = (F((k+½)h) − F((k−½)h)) / (F(hi edge) − F(lo edge)), tail = 1 − that denominator.
// [DIST, bins, tail, P(first bin), P(bin k), k]
const SCIPY: [string, number, number, number, number, number][] = [
  ["normal(0,1)", 67, 0.0008081156037280657, 0.00017310713110050413, 0.039909863460149776, 0],
  ["gamma(2,2)", 186, 0.0009631645970711311, 0.00030763647552100416, 0.0023142873805286116, 92],
  ["f(5,10)", 106, 0.0009739408815663264, 0.00203399906342555, 0.0008279204808937136, 52],
  ["weibull(1.5,1)", 37, 0.0009365429183173513, 0.01112849447434949, 0.018019744162477248, 18],
  ["student_t(3)", 259, 0.0009940685732878762, 1.1538165461086955e-5, 0.036771408710408085, 0],
  ["beta(2,2)", 11, 0, 0.007250000000000001, 0.14950000000000002, 5],
  ["logistic(0,1)", 153, 0.0009516352376767179, 5.0063504152977474e-5, 0.025018601551254287, 0],
  ["laplace(0,1)", 139, 0.0009586351536940985, 5.045864103389787e-5, 0.04881737354968173, 0],
  ["chi2(5)", 206, 0.0009849381897872878, 2.9238337954607516e-5, 0.002643839622218891, 102],
  ["cauchy(0,1,precision=0)", 1275, 0.0009986184317088975, 7.852435378703261e-7, 0.2954622893889252, 0],
  ["exponential(1)", 70, 0.0009586351536939874, 0.048817373549681735, 0.0033419214061178384, 34],
  ["cuniform(0,1)", 11, 0, 0.05, 0.10000000000000003, 5],
];

describe("continuous targets: bins from the CDF", () => {
  for (const [dist, bins, tail, first, mid, k] of SCIPY) {
    it(`${dist} matches scipy`, () => {
      const t = parseDist(dist);
      assert.equal(t.support.length, bins);
      const c = t.continuous!;
      assert.ok(Math.abs(c.tail - tail) < 1e-12, `tail ${c.tail} vs ${tail}`);
      assert.ok(c.tail < 0.001, "the range holds at least 99.9%");
      assert.ok(Math.abs(t.probs[0]! - first) < 1e-12 * Math.max(1, first * 1e3), `first ${t.probs[0]} vs ${first}`);
      const key = (k / 10 ** c.precision).toFixed(c.precision);
      const i = t.support.indexOf(key);
      assert.ok(i >= 0, `answer ${key} in the support`);
      assert.ok(Math.abs(t.probs[i]! - mid) < 1e-12, `${key}: ${t.probs[i]} vs ${mid}`);
      assert.ok(Math.abs(t.probs.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    });
  }

  it("writes answers at the precision, never -0", () => {
    const t = parseDist("normal(0,1)", { precision: 2 });
    assert.equal(t.continuous!.precision, 2);
    assert.ok(t.support.includes("-0.03") && t.support.includes("0.00") && t.support.includes("1.70"));
    assert.ok(!t.support.some((s) => s.startsWith("-0.00")));
    assert.deepEqual(parseDist("normal(0,1,precision=0)").support, ["-3", "-2", "-1", "0", "1", "2", "3"]);
    // DIST's own precision= wins over the default from --precision.
    assert.equal(parseDist("normal(0,1,precision=0)", { precision: 3 }).continuous!.precision, 0);
  });

  it("mass= widens the range", () => {
    const t = parseDist("normal(0,1,mass=0.99999)");
    assert.ok(t.continuous!.tail < 1e-5);
    assert.ok(t.support.length > 67);
  });

  it("rejects bad parameters with one line", () => {
    const cases: [string, RegExp][] = [
      ["normal(0,-1)", /^normal\(0,-1\): sigma is -1; sigma must be a finite number > 0$/],
      ["normal(0)", /sigma is required; usage normal\(mu,sigma\)/],
      ["cuniform(2,1)", /a is 2, not below b = 1/],
      ["normal(0,1,precision=1.5)", /precision is 1.5; precision .* integer 0..6/],
      ["cauchy(0,1)", /12733 bins at precision 1 .*lower the precision \(precision=0\)/],
      ["normal(0,1,mass=1)", /mass is 1; mass .* in \(0, 1\)/],
      ["baddice:dice", /unknown preset "baddice:dice": the bad-dice presets are baddice:uniform, baddice:gaussian/],
      ["bernoulli(1.5)", /p is 1.5; p must be in \[0, 1\]/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => parseDist(text), (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes("\n"), text);
    }
  });
});

describe("bad-dice presets", () => {
  it("has the paper's 15 distributions", () => {
    assert.equal(BADDICE_NAMES.length, 15);
    const continuous = BADDICE_NAMES.filter((n) => parseDist(`baddice:${n}`).continuous);
    assert.equal(continuous.length, 12);
    assert.deepEqual(parseDist("baddice:bernoulli"), { support: ["0", "1"], probs: [0.30000000000000004, 0.7] });
    const g = parseDist("baddice:gamma").continuous!;
    assert.deepEqual([g.family, g.params], ["gamma", { shape: 2, scale: 2 }]);
    assert.deepEqual(parseDist("baddice:weibull").continuous!.params, { shape: 1.5, scale: 1 });
  });
});

describe("free-form numbers", () => {
  it("parses what float() parses after trimming", () => {
    assert.equal(parseAnswerNumber("0.37"), 0.37);
    assert.equal(parseAnswerNumber("-1.2e-1"), -0.12);
    assert.equal(parseAnswerNumber("  3 "), 3);
    assert.equal(parseAnswerNumber("+.5"), 0.5);
    for (const bad of ["", "abc", "1,5", "inf", "nan", "1e999", "0x10", "3 apples"]) assert.equal(parseAnswerNumber(bad), null, bad);
  });

  it("puts a number in the bin it rounds into", () => {
    const t = parseDist("normal(0,1)");
    assert.equal(answerOfValue(t, 0.37), "0.4");
    assert.equal(answerOfValue(t, -0.12), "-0.1");
    assert.equal(answerOfValue(t, 0.15), "0.2"); // bins are [k·h − h/2, k·h + h/2): the tie goes up
    assert.equal(answerOfValue(t, -0.05), "0.0");
    assert.equal(answerOfValue(t, 9), null);
    assert.equal(answerOfValue(parseDist("binomial(4,0.5)"), 3), "3");
  });
});
