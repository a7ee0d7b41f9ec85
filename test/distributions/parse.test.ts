import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import {
  binomial,
  describeDist,
  formatDist,
  geometric,
  parseDist,
  poisson,
  validateTarget,
  zipf,
} from "../../src/distributions/index.ts";
import type { Target } from "../../src/types.ts";

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function close(actual: number[], expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `index ${i}: ${v} vs ${expected[i]}`));
}

/** The exact one-line message, and that it is an InputError (the CLI maps those to exit 2). */
function rejects(text: string, message: string, opts?: { normalize?: boolean }): void {
  assert.throws(
    () => parseDist(text, opts),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
      assert.equal(e.message, message);
      assert.ok(!e.message.includes("\n"));
      return true;
    },
  );
}

describe("parseDist: map syntax", () => {
  it("keeps key order and exact values", () => {
    assert.deepEqual(parseDist("{1:0.1,2:0.7,3:0.1,4:0.1}"), { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] });
    // JSON.parse would reorder integer-like keys to 1, 2; the map keeps the written order.
    assert.deepEqual(parseDist('{"2":0.5,"1":0.5}'), { support: ["2", "1"], probs: [0.5, 0.5] });
  });

  it("trims whitespace and accepts .5 and exponents", () => {
    assert.deepEqual(parseDist("  { a : .5 ,\n b : 5e-1 }  "), { support: ["a", "b"], probs: [0.5, 0.5] });
    assert.deepEqual(parseDist("{x:1e-3,y:0.999}").probs, [0.001, 0.999]);
  });

  it("accepts quoted keys containing , : and spaces, and JSON object text", () => {
    assert.deepEqual(parseDist('{"New York":0.5,"Paris":0.5}').support, ["New York", "Paris"]);
    assert.deepEqual(parseDist("{'a,b':0.25,'c:d':0.25,\"e f\":0.5}").support, ["a,b", "c:d", "e f"]);
    assert.deepEqual(parseDist('{\n  "yes": 0.3,\n  "no": 0.7\n}'), { support: ["yes", "no"], probs: [0.3, 0.7] });
    assert.deepEqual(parseDist('{"say \\"hi\\"":1}').support, ['say "hi"']);
  });

  it("normalize rescales instead of rejecting", () => {
    // 0.1 + 0.7 + 0.1 = 0.9 → 0.1/0.9 = 1/9, 0.7/0.9 = 7/9
    close(parseDist("{1:0.1,2:0.7,3:0.1}", { normalize: true }).probs, [1 / 9, 7 / 9, 1 / 9]);
    close(parseDist("{a:2,b:6}", { normalize: true }).probs, [0.25, 0.75]);
  });

  it("accepts a sum within 1e-6 of 1", () => {
    assert.deepEqual(parseDist("{a:0.5000005,b:0.5}").probs, [0.5000005, 0.5]);
  });
});

describe("parseDist: families", () => {
  it("uniform(a,b) is inclusive", () => {
    assert.deepEqual(parseDist("uniform(1,4)"), { support: ["1", "2", "3", "4"], probs: [0.25, 0.25, 0.25, 0.25] });
    assert.deepEqual(parseDist("uniform(-1,0)").support, ["-1", "0"]);
  });

  it("binomial(2,0.5) = [.25,.5,.25]", () => {
    const t = parseDist("binomial(2,0.5)");
    assert.deepEqual(t.support, ["0", "1", "2"]);
    close(t.probs, [0.25, 0.5, 0.25]);
  });

  it("binomial(3,0.2): C(3,k) 0.2^k 0.8^(3−k)", () => {
    // 0.8³ = .512, 3·.2·.64 = .384, 3·.04·.8 = .096, .008
    close(binomial(3, 0.2).probs, [0.512, 0.384, 0.096, 0.008]);
    assert.deepEqual(binomial(3, 0).probs, [1, 0, 0, 0]);
    assert.deepEqual(binomial(3, 1).probs, [0, 0, 0, 1]);
    // Large n stays finite (log space) and sums to 1.
    assert.ok(Math.abs(sum(binomial(5000, 0.5).probs) - 1) < 1e-9);
  });

  it("poisson folds the tail beyond max into max", () => {
    // poisson(1,max=2): P(0) = e⁻¹, P(1) = e⁻¹, P(≥2) = 1 − 2e⁻¹
    const t = parseDist("poisson(1,max=2)");
    assert.deepEqual(t.support, ["0", "1", "2"]);
    close(t.probs, [Math.exp(-1), Math.exp(-1), 1 - 2 * Math.exp(-1)]);
    const big = poisson(5, 15);
    assert.equal(big.support.length, 16);
    assert.ok(Math.abs(sum(big.probs) - 1) < 1e-12);
    // P(5) = e⁻⁵ 5⁵/5! = 0.006737947 · 3125/120 = 0.1754673698
    assert.ok(Math.abs(big.probs[5]! - 0.1754673697678507) < 1e-12);
    // A tiny tail is summed directly, not lost to 1 − (almost 1): P(X ≥ 20) for λ = 1 ≈ 1/(e·20!) · (1 + 1/21 + …) ≈ 1.6e-19.
    const tail = poisson(1, 20).probs[20]!;
    assert.ok(tail > 1.5e-19 && tail < 1.7e-19, String(tail));
  });

  it("geometric(p,max) is (1−p)^(k−1) p with the tail (1−p)^(max−1) folded in", () => {
    // p = 0.5, max = 3: .5, .25, then P(X ≥ 3) = .25
    assert.deepEqual(parseDist("geometric(0.5,max=3)"), { support: ["1", "2", "3"], probs: [0.5, 0.25, 0.25] });
    assert.ok(Math.abs(sum(geometric(0.3, 10).probs) - 1) < 1e-12);
    assert.deepEqual(geometric(1, 3).probs, [1, 0, 0]);
  });

  it("zipf(s,n) ∝ k^−s, normalised", () => {
    // s = 1, n = 3: weights 1, 1/2, 1/3, sum 11/6 → 6/11, 3/11, 2/11
    close(parseDist("zipf(1,3)").probs, [6 / 11, 3 / 11, 2 / 11]);
    assert.ok(Math.abs(sum(zipf(1.1, 20).probs) - 1) < 1e-12);
    close(zipf(0, 4).probs, [0.25, 0.25, 0.25, 0.25]);
  });

  it("accepts named and positional parameters and spaces", () => {
    assert.deepEqual(parseDist("poisson(1, 2)"), parseDist("poisson(lambda=1, max=2)"));
    assert.deepEqual(parseDist("Binomial( 2 , 0.5 )"), parseDist("binomial(2,0.5)"));
  });
});

describe("parseDist: presets", () => {
  it("extreme and flat are exact", () => {
    assert.deepEqual(parseDist("extreme"), { support: ["1", "2", "3", "4"], probs: [0.1, 0.7, 0.1, 0.1] });
    assert.deepEqual(parseDist("flat"), {
      support: ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
      probs: [0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1],
    });
  });

  it("returns fresh copies", () => {
    parseDist("extreme").probs[0] = 99;
    assert.equal(parseDist("extreme").probs[0], 0.1);
  });
});

describe("parseDist: bad input (exact messages)", () => {
  it("probabilities", () => {
    rejects("{1:0.3,2:0.3,3:-0.1,4:0.5}", 'probability of "3" is -0.1; probabilities must be ≥ 0');
    rejects("{1:NaN,2:1}", 'probability of "1" is NaN; probabilities must be finite numbers');
    rejects("{1:Infinity,2:1}", 'probability of "1" is Infinity; probabilities must be finite numbers');
    rejects("{1:1e999}", 'probability of "1" is Infinity; probabilities must be finite numbers');
    rejects("{1:abc}", 'probability of "1" is "abc", not a number; write decimals such as 0.1, .5 or 1e-3');
    rejects("{1:}", 'answer "1" has no probability after ":"; write e.g. 1:0.5');
  });

  it("sums", () => {
    // 0.1 + 0.7 + 0.1 = 0.8999999999999999 in floating point; printed as 0.9
    rejects("{1:0.1,2:0.7,3:0.1}", "probabilities sum to 0.9, expected 1 (use --normalize)");
    rejects("{1:0.6,2:0.6}", "probabilities sum to 1.2, expected 1 (use --normalize)");
    rejects("{a:0,b:0}", "probabilities sum to 0; give at least one answer a positive probability");
    rejects("{a:0,b:0}", "probabilities sum to 0; give at least one answer a positive probability", { normalize: true });
    rejects("{a:0.5000011,b:0.5}", "probabilities sum to 1.0000011, expected 1 (use --normalize)");
  });

  it("keys", () => {
    rejects("{1:0.5,2:0.25,2:0.25}", 'duplicate answer "2"; list each answer once');
    rejects('{"":1}', "answer #1 is empty; every answer needs at least one visible character");
    rejects("{a:0.5,  :0.5}", "answer #2 is empty; every answer needs at least one visible character");
    rejects("{'   ':1}", "answer #1 is empty; every answer needs at least one visible character");
  });

  it("map structure", () => {
    rejects("{}", "empty distribution: give at least one answer, e.g. {1:0.5,2:0.5}");
    rejects("{ }", "empty distribution: give at least one answer, e.g. {1:0.5,2:0.5}");
    rejects("{1:0.5,2:0.5,}", 'trailing "," before "}"; remove it');
    rejects("{1:0.5,2:0.5", 'missing "}" at the end of {1:0.5,2:0.5; close the map with "}"');
    rejects("{1:1}x", 'unexpected text after "}": "x"; remove it');
    rejects("{}x", 'unexpected text after "}": "x"; remove it');
    rejects("{1 0.5}", 'expected ":" after answer "1 0.5", found "}"; write answer:probability and quote answers containing , : { or }');
    rejects('{"a":1, "b"}', 'expected ":" after answer "b", found "}"; write answer:probability and quote answers containing , : { or }');
    rejects('{"abc:1}', 'unterminated quoted answer at position 2; close it with "');
    rejects("{'abc:1}", "unterminated quoted answer at position 2; close it with '");
    rejects('{"a\\q":1}', 'bad escape in quoted answer "a\\q"; use JSON escapes such as \\" or \\\\, or quote with \'...\'');
  });

  it("unknown syntax", () => {
    rejects(
      "foo(1)",
      'unknown distribution "foo(1)": expected a map like {1:0.1,2:0.9}, a family (uniform, binomial, poisson, geometric, zipf, bernoulli), a continuous family (normal, cuniform, beta, exponential, cauchy, student_t, chi2, f, gamma, weibull, laplace, logistic), a preset (extreme, flat) or baddice:NAME',
    );
    rejects(
      "1:0.5,2:0.5",
      'unknown distribution "1:0.5,2:0.5": expected a map like {1:0.1,2:0.9}, a family (uniform, binomial, poisson, geometric, zipf, bernoulli), a continuous family (normal, cuniform, beta, exponential, cauchy, student_t, chi2, f, gamma, weibull, laplace, logistic), a preset (extreme, flat) or baddice:NAME',
    );
    rejects(
      "   ",
      "empty distribution text: expected a map like {1:0.1,2:0.9}, a family (uniform, binomial, poisson, geometric, zipf, bernoulli), a continuous family (normal, cuniform, beta, exponential, cauchy, student_t, chi2, f, gamma, weibull, laplace, logistic), a preset (extreme, flat) or baddice:NAME",
    );
    rejects("uniform", "uniform needs arguments: uniform(a,b), e.g. uniform(1,10)");
    rejects("zipf()", "zipf() needs arguments: usage zipf(s,n), e.g. zipf(1.1,20)");
  });

  it("family arguments", () => {
    rejects("binomial(10)", "binomial(10): p is required; usage binomial(n,p), e.g. binomial(10,0.5)");
    rejects("binomial(10,)", "binomial(10,): argument 2 is empty; usage binomial(n,p), e.g. binomial(10,0.5)");
    rejects("binomial(10,0.5,3)", "binomial(10,0.5,3): expected at most 2 arguments, got 3; usage binomial(n,p), e.g. binomial(10,0.5)");
    rejects("binomial(10,x)", 'binomial(10,x): p is "x", not a number; usage binomial(n,p), e.g. binomial(10,0.5)');
    rejects("zipf(1,m=3)", 'zipf(1,m=3): unknown argument "m"; usage zipf(s,n), e.g. zipf(1.1,20)');
    rejects("poisson(5,15,max=15)", "poisson(5,15,max=15): max is given twice; usage poisson(lambda,max=M), e.g. poisson(5,max=15)");
    rejects(
      "poisson(5)",
      "poisson(5): max is required; usage poisson(lambda,max=M), e.g. poisson(5,max=15); the tail beyond max is folded into max",
    );
    rejects(
      "geometric(0.3)",
      "geometric(0.3): max is required; usage geometric(p,max=M), e.g. geometric(0.3,max=10); the tail beyond max is folded into max",
    );
  });

  it("family parameter ranges", () => {
    rejects("binomial(10,1.5)", "binomial(10,1.5): p is 1.5; p must be in [0, 1]");
    rejects("binomial(10,-0.1)", "binomial(10,-0.1): p is -0.1; p must be in [0, 1]");
    rejects("binomial(10.5,0.5)", "binomial(10.5,0.5): n is 10.5; n must be an integer ≥ 1");
    rejects("binomial(0,0.5)", "binomial(0,0.5): n is 0; n must be an integer ≥ 1");
    rejects("uniform(5,1)", "uniform(5,1): a is 5 > b = 1; write the smaller bound first, e.g. uniform(1,5)");
    rejects("uniform(1.5,3)", "uniform(1.5,3): a is 1.5; a must be an integer");
    rejects("uniform(1,100000)", "uniform(1,100000): 100000 answers; at most 10000 are supported");
    rejects("poisson(0,max=5)", "poisson(0,max=5): lambda is 0; lambda must be a finite number > 0");
    rejects("poisson(5,max=-1)", "poisson(5,max=-1): max is -1; max must be an integer ≥ 0");
    rejects("poisson(5,max=2.5)", "poisson(5,max=2.5): max is 2.5; max must be an integer ≥ 0");
    rejects("geometric(0,max=3)", "geometric(0,max=3): p is 0; p must be in (0, 1]");
    rejects("geometric(1.2,max=3)", "geometric(1.2,max=3): p is 1.2; p must be in (0, 1]");
    rejects("geometric(0.5,max=0)", "geometric(0.5,max=0): max is 0; max must be an integer ≥ 1");
    rejects("zipf(-1,5)", "zipf(-1,5): s is -1; s must be a finite number ≥ 0");
    rejects("zipf(1,0)", "zipf(1,0): n is 0; n must be an integer ≥ 1");
  });
});

describe("validateTarget", () => {
  it("rejects shapes a map cannot produce", () => {
    assert.throws(() => validateTarget({ support: [], probs: [] }), {
      name: "InputError",
      message: "empty distribution: give at least one answer, e.g. {1:0.5,2:0.5}",
    });
    assert.throws(() => validateTarget({ support: ["a", "b"], probs: [1] }), {
      name: "InputError",
      message: "distribution has 2 answers but 1 probabilities; give one probability per answer",
    });
  });
});

describe("formatDist / describeDist", () => {
  it("formatDist round-trips exactly, quoting keys that need it", () => {
    const targets: Target[] = [
      parseDist("extreme"),
      parseDist("poisson(5,max=15)"),
      parseDist("geometric(0.3,max=10)"),
      { support: ["New York", "a,b", "c:d", 'q"', " lead", "x'y", "{"], probs: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.4] },
    ];
    for (const t of targets) assert.deepEqual(parseDist(formatDist(t)), t);
    assert.equal(formatDist(parseDist("extreme")), "{1:0.1,2:0.7,3:0.1,4:0.1}");
    assert.equal(formatDist({ support: ["New York", "Paris"], probs: [0.5, 0.5] }), '{"New York":0.5,Paris:0.5}');
  });

  it("describeDist prints clean numbers", () => {
    assert.equal(
      describeDist(parseDist("extreme")),
      '"1" with probability 0.1, "2" with probability 0.7, "3" with probability 0.1, "4" with probability 0.1',
    );
    // 0.1 + 0.2 = 0.30000000000000004 prints as 0.3; 1/3 to 6 significant digits
    assert.equal(
      describeDist({ support: ["a", "b", "c"], probs: [0.1 + 0.2, 1 / 3, 1 - 0.3 - 1 / 3] }),
      '"a" with probability 0.3, "b" with probability 0.333333, "c" with probability 0.366667',
    );
  });
});
