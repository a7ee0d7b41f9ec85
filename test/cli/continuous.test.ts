import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseTargetFile } from "../../src/distributions/index.ts";
import { InputError } from "../../src/errors.ts";
import type { Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const STUDY = fileURLToPath(new URL("../../examples/bad-dice.yaml", import.meta.url));

describe("continuous targets from the CLI", () => {
  it("bad-dice.yaml --dry-run shows the 15-target matrix", async () => {
    const r = await ptalign(["run", STUDY, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    const targets = new Set([...r.stdout.matchAll(/ (baddice:\w+) /g)].map((m) => m[1]));
    assert.equal(targets.size, 15);
    assert.match(r.stdout, /study bad-dice: 30 cells/);
    for (const name of ["uniform", "gaussian", "bernoulli", "beta", "binomial", "poisson", "exponential", "cauchy", "student_t", "chi_square", "f", "gamma", "weibull", "laplace", "logistic"]) {
      assert.ok(targets.has(`baddice:${name}`), name);
    }
  });

  it("run on a sim model: bins at --precision, KS and W1 against the distribution, the peers' tests", async () => {
    const r = await ptalign(["run", "--model", "sim:e", "--target", "normal(0,1)", "--precision", "2", "--steps", "40", "--runs", "2", "--no-save", "--json", "--peer-tests"]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as Result;
    assert.equal(res.target.continuous!.precision, 2);
    assert.ok(res.target.support.includes("-0.01"));
    assert.equal(res.metrics.n_values, 80);
    assert.ok(res.metrics.ks! > 0 && res.metrics.ks_p! > 0.001, `a sampler that follows the target passes KS: p = ${res.metrics.ks_p}`);
    assert.ok(res.metrics.w1_dist! > 0 && res.metrics.w1_dist! < 0.5);
    assert.equal(res.metrics.peers!.n_ref, 80);
  });

  it("metrics --samples works without --ptoken on free-form numbers", async () => {
    const dir = await tempDir();
    const file = join(dir, "draws.txt");
    await writeFile(file, "0.37, -1.2e-1,   3 \n-0.8, 1.1, banana\n0.2 0.5 -0.4\n");
    const r = await ptalign(["metrics", "--target", "normal(0,1)", "--samples", file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { samples: { n: number; unparsed: number; ks: number; ks_p: number; n_values: number } };
    assert.equal(out.samples.n, 8);
    assert.equal(out.samples.unparsed, 1);
    assert.equal(out.samples.n_values, 8);
    const text = await ptalign(["metrics", "--target", "normal(0,1)", "--samples", file]);
    assert.match(text.stdout, /8 answers in the support, 1 unparsed/);
    assert.match(text.stdout, /ks_p/);
    const none = await ptalign(["metrics", "--target", "normal(0,1)"]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr.trim().split("\n").length, 1);
  });

  it("--target-file: counts from CSV, one-line errors with exit 2", async () => {
    const dir = await tempDir();
    const csv = join(dir, "pop.csv");
    await writeFile(csv, 'item,count\n"Toy Story (1995), the film",30\nHeat,10\n');
    const r = await ptalign(["run", "--model", "sim:e", "--target-file", csv, "--steps", "5", "--runs", "1", "--no-save", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as Result;
    assert.deepEqual(res.target.support, ["Toy Story (1995), the film", "Heat"]);
    assert.deepEqual(res.target.probs, [0.75, 0.25]);
    const bad = join(dir, "bad.csv");
    await writeFile(bad, "a,1\nb,x\n");
    const e = await ptalign(["metrics", "--target-file", bad, "--samples", csv]);
    assert.equal(e.code, 2);
    assert.equal(e.stderr.trim(), `ptalign: --target-file ${bad} line 2: "x" is not a number; write the count or probability of "b"`);
  });
});

describe("parseTargetFile", () => {
  const rejects = (text: string, name: string, re: RegExp): void => {
    assert.throws(() => parseTargetFile(text, name), (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes("\n"), text);
  };
  it("reads JSON objects in file order, pairs and records", () => {
    assert.deepEqual(parseTargetFile('{"10": 1, "2": 3}', "t.json"), { support: ["10", "2"], probs: [0.25, 0.75] });
    assert.deepEqual(parseTargetFile('[["a", 0.2], ["b", 0.8]]', "t.json"), { support: ["a", "b"], probs: [0.2, 0.8] });
    assert.deepEqual(parseTargetFile('[{"item": "x", "count": 1}, {"item": "y", "count": 1}]', "t.json"), { support: ["x", "y"], probs: [0.5, 0.5] });
    assert.deepEqual(parseTargetFile("a,0.5\nb,0.5\n", "t.csv"), { support: ["a", "b"], probs: [0.5, 0.5] });
  });
  it("rejects what DIST rejects", () => {
    rejects("a,0.5\nb,0.4\n", "t.csv", /^--target-file t.csv: probabilities sum to 0.9, expected 1 \(use --normalize\)$/);
    rejects("a,1\na,2\n", "t.csv", /duplicate answer "a"/);
    rejects("a,-1\n", "t.csv", /line 1: the value of "a" is -1/);
    rejects('{"a": "many"}', "t.json", /the value of "a" is "many"/);
    rejects("", "t.csv", /no answers/);
    rejects('"a,1\n', "t.csv", /quoted answer is not closed/);
    rejects("{", "t.json", /not valid JSON/);
  });
});
