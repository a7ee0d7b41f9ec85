import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeBigramModel } from "../../src/synth/index.ts";
import type { CodegenResult } from "../../src/tasks/codegen/run.ts";
import { codeWriterSpec, diversity, jsTokens, loadProblems, normalizeProgram, normalizedEditDistance, parseProblems, passAtK, runCodegen, runCompletion, validateProblems, type CodegenSettings, type Problem } from "../../src/tasks/index.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
const LIMITS = { timeoutMs: 1000, memoryMb: 16, maxOutputChars: 4096 };

describe("pass@k: the unbiased estimator of Chen et al. (2021)", () => {
  it("matches worked values of 1 − C(n−c, k)/C(n, k)", () => {
    close(passAtK(10, 3, 1), 0.3);
    close(passAtK(10, 3, 5), 1 - 21 / 252); // C(7,5) = 21, C(10,5) = 252
    close(passAtK(10, 1, 5), 0.5); // C(9,5)/C(10,5) = 126/252
    close(passAtK(10, 3, 10), 1); // n − c = 7 < 10: every 10-subset contains a pass
    close(passAtK(5, 0, 1), 0);
    close(passAtK(200, 10, 1), 0.05);
    close(passAtK(20, 4, 10), 1 - 8008 / 184756); // C(16,10) = 8008, C(20,10) = 184756
    assert.equal(passAtK(4, 2, 5), null); // k > n: undefined
  });
  it("stays exact where the binomials overflow doubles", () => {
    // C(1000, 500) overflows; the product form does not. With c = 1: pass@k = k/n exactly.
    close(passAtK(1000, 1, 500), 0.5, 1e-12);
    close(passAtK(1000, 2, 1), 0.002, 1e-15);
  });
});

describe("problem files", () => {
  it("the built-in set: ≥ 30 problems, each canonical solution passes and each wrong solution fails its tests", async () => {
    const problems = await loadProblems();
    assert.ok(problems.length >= 30, `${problems.length} problems`);
    assert.ok(problems.every((p) => p.canonical_solution !== undefined && (p.wrong_solutions?.length ?? 0) >= 1));
    await validateProblems(problems, LIMITS); // throws naming the first problem that does not hold
  });
  it("malformed JSONL names the line; a canonical solution that fails its tests is refused", async () => {
    const good = JSON.stringify({ task_id: "a", prompt: "function f(x) {\n", entry_point: "f", test: "function check(c) { assert.equal(c(1), 2); }", canonical_solution: "  return x + 1;\n}\n" });
    assert.throws(() => parseProblems(`${good}\n{"task_id": "b", "prompt": `, "p.jsonl"), /^InputError: p\.jsonl:2: not valid JSON/);
    assert.throws(() => parseProblems(`${good}\n\n${JSON.stringify({ task_id: "c", prompt: "x" })}`, "p.jsonl"), /p\.jsonl:3: missing "test"/);
    assert.throws(() => parseProblems(`${good}\n${good}`, "p.jsonl"), /p\.jsonl:2: task_id "a" appears twice/);
    const broken = parseProblems(good.replace("x + 1", "x - 1"));
    await assert.rejects(validateProblems(broken, LIMITS), /problem a: its canonical_solution fails its own tests \(AssertionError/);
  });
  it("accepts MultiPL-E's JavaScript layout (tests that require node:assert and call themselves, stop_tokens)", async () => {
    const row = { name: "HumanEval_0_add", language: "js", prompt: "//Add two numbers\nfunction add(x, y){\n", tests: "const assert = require('node:assert');\n\nfunction test() {\n  let candidate = add;\n  assert.deepEqual(candidate(2, 3), 5);\n}\n\ntest();", stop_tokens: ["\nfunction ", "\n/*", "\n//", "\nconsole.log"] };
    const [p] = parseProblems(JSON.stringify(row));
    assert.equal(p!.entry_point, "add");
    await validateProblems([{ ...p!, canonical_solution: "  return x + y;\n}\n", wrong_solutions: ["  return x - y;\n}\n"] }], LIMITS);
  });
});

describe("HumanEval-X JavaScript layout", () => {
  it("arrow-function prompts give the entry point; console.assert tests fail a wrong solution", async () => {
    const row = { task_id: "JavaScript/0", prompt: "/* Add */\nconst add = (x, y) => {\n", canonical_solution: "  return x + y;\n}\n", test: "const testAdd = () => {\n  console.assert(add(2, 3) === 5)\n}\n\ntestAdd()\n" };
    const [p] = parseProblems(JSON.stringify(row));
    assert.equal(p!.entry_point, "add");
    await validateProblems([{ ...p!, wrong_solutions: ["  return x * y;\n}\n"] }], LIMITS);
  });
});

describe("TypeScript problems (MultiPL-E humaneval-ts layout)", () => {
  it("types are stripped before the program runs; a type-level syntax error is a syntax failure", async () => {
    const row = { name: "HumanEval_0_add", language: "ts", prompt: "//Add two numbers\nfunction add(x: number, y: number): number {\n", tests: "declare var require: any;\nconst assert = require('node:assert');\nfunction test() {\n  let candidate = add;\n  assert.deepEqual(candidate(2, 3), 5);\n}\n\ntest();" };
    const [p] = parseProblems(JSON.stringify(row));
    assert.equal(p!.language, "ts");
    await validateProblems([{ ...p!, canonical_solution: "  const s: number = x + y;\n  return s;\n}\n", wrong_solutions: ["  return (x - y) as number;\n}\n"] }], LIMITS);
    const bad = await runCompletion(p!, "  const s: = 1;\n}\n", LIMITS);
    assert.equal(bad.outcome, "syntax");
  });
});

describe("diversity after normalisation", () => {
  it("comments and whitespace do not make programs distinct; token edit distance is normalised by the longer program", () => {
    assert.equal(normalizeProgram("  return a+b; // sum\n}"), normalizeProgram("/* x */ return a + b;\n\n}"));
    assert.deepEqual(jsTokens("return s.replace(/[a-z]/g, \"x\") // c"), ["return", "s", ".", "replace", "(", "/[a-z]/g", ",", '"x"', ")"]);
    assert.equal(normalizedEditDistance(["a", "b", "c", "d"], ["a", "c", "d"]), 1 / 4);
    const d = diversity([
      { completion: "return 1; // one", passed: true },
      { completion: "return 1;", passed: true },
      { completion: "return 2;", passed: false },
    ]);
    // Pairs: (1,2) distance 0, (1,3) and (2,3) one token of three.
    assert.deepEqual(d, { distinct_passing: 1, distinct_failing: 1, edit_distance: (0 + 1 / 3 + 1 / 3) / 3 });
  });
});

// sumArray: canonical "return arr.reduce((a, b) => a + b, 0);" (19 tokens with "}") vs. the wrong one without ", 0" (17).
async function sumArray(): Promise<Problem> {
  return (await loadProblems()).find((p) => p.entry_point === "sumArray")!;
}

describe("codegen on generated GGUF models that write code line by line", () => {
  const settings = (n: number, temperatures: number[], runs: number): CodegenSettings => ({ n, temperatures, runs, seed: 1, ks: [1, 2, 4, 8], maxTokens: 20, limits: LIMITS });

  it("a deterministic writer (one program, every row one-hot): pass@k = 1, one distinct program, no spread, entropy 0", async () => {
    const dir = await tempDir();
    const p = await sumArray();
    const path = join(dir, "stable.gguf");
    await writeBigramModel(path, codeWriterSpec([{ text: p.canonical_solution!, prob: 1 }]));
    const r = await runCodegen(path, [p], settings(4, [0.5, 1], 2), { backend: { threads: 1 } });
    for (const s of r.summaries) {
      assert.deepEqual(s.pass_at_k, { "1": 1, "2": 1, "4": 1, "8": null });
      assert.deepEqual(s.pass1_by_run, [1, 1]);
      assert.deepEqual(s.stability, { pass1_sd: 0, pass1_range: 0 });
      assert.deepEqual(s.diversity, { distinct_passing: 1, distinct_failing: 0, edit_distance: 0 });
      // Two line tokens, then </s>: three decisions per sample, each with top-1 probability 1.
      assert.equal(s.profile.decisions, 3 * 4 * 2);
      close(s.profile.mean_entropy, 0, 1e-6);
      assert.equal(s.profile.top1_gt_0_9, 1);
    }
    assert.ok(r.cells.every((c) => c.samples.every((x) => x.completion === p.canonical_solution && x.stop === "eos")));
  });

  it("a branching writer (right or wrong program at the first token, 1/2 each): every metric equals its hand value from the samples drawn", async () => {
    const dir = await tempDir();
    const p = await sumArray();
    const wrong = p.wrong_solutions![0]!;
    assert.equal(jsTokens(p.canonical_solution!).length, 19);
    assert.equal(jsTokens(wrong).length, 17);
    const path = join(dir, "branching.gguf");
    await writeBigramModel(path, codeWriterSpec([{ text: p.canonical_solution!, prob: 0.5 }, { text: wrong, prob: 0.5 }]));
    const n = 8;
    const r = await runCodegen(path, [p], settings(n, [1], 3), { backend: { threads: 1 } });
    const s = r.summaries[0]!;
    const cs = r.cells.map((cell) => {
      assert.ok(cell.samples.every((x) => x.completion === p.canonical_solution || x.completion === wrong));
      const c = cell.samples.filter((x) => x.completion === p.canonical_solution).length;
      assert.equal(cell.c, c);
      // pass@k by hand: 1 − C(n−c, k)/C(n, k)
      const C = (a: number, b: number): number => (b > a ? 0 : b === 0 ? 1 : (C(a - 1, b - 1) * a) / b);
      for (const k of [1, 2, 4, 8]) close(cell.pass_at_k[String(k)], 1 - C(n - c, k) / C(n, k), 1e-12);
      assert.equal(cell.distinct_passing, c > 0 ? 1 : 0);
      assert.equal(cell.distinct_failing, c < n ? 1 : 0);
      // Pairs of different programs are 2 tokens apart out of 19; identical pairs 0.
      close(cell.edit_distance, (c * (n - c) * (2 / 19)) / ((n * (n - 1)) / 2), 1e-12);
      return c;
    });
    assert.ok(new Set(cs).size > 1 || cs[0] !== n, "the branch was taken both ways");
    const pass1 = cs.map((c) => c / n);
    assert.deepEqual(s.pass1_by_run, pass1);
    const m = pass1.reduce((a, b) => a + b, 0) / 3;
    close(s.stability.pass1_sd, Math.sqrt(pass1.reduce((a, x) => a + (x - m) ** 2, 0) / 2), 1e-12);
    // P_token profile: the first token has entropy ln 2 (top-1 = 0.5), the second line and </s> are certain.
    close(s.profile.mean_entropy, Math.log(2) / 3, 1e-6);
    close(s.profile.top1_gt_0_9, 2 / 3, 1e-12);
    assert.deepEqual(Object.keys(s.failures), ["error"]); // "Reduce of empty array with no initial value"
  });
});

describe("free generation stops", () => {
  it("at a stop string (the completion is cut before it) and at --max-tokens", async () => {
    const dir = await tempDir();
    const p = await sumArray();
    const stopping = join(dir, "stopping.gguf");
    // The model writes the function, then a comment line: the stop string "\n//" ends the completion before it.
    await writeBigramModel(stopping, codeWriterSpec([{ text: `${p.canonical_solution!}// end\n`, prob: 1 }]));
    let r = await runCodegen(stopping, [p], { n: 1, temperatures: [1], runs: 1, seed: 1, ks: [1], maxTokens: 50, limits: LIMITS });
    assert.deepEqual([r.cells[0]!.samples[0]!.completion, r.cells[0]!.samples[0]!.stop, r.cells[0]!.c], [p.canonical_solution!.slice(0, -1), "stop", 1]); // the stop string takes its newline with it
    const looping = join(dir, "looping.gguf");
    await writeBigramModel(looping, { pieces: ["x", "+"], defaultRow: { x: 1 }, rows: { x: { "+": 1 }, "+": { x: 1 } } });
    r = await runCodegen(looping, [p], { n: 1, temperatures: [1], runs: 1, seed: 1, ks: [1], maxTokens: 7, limits: LIMITS });
    assert.deepEqual([r.cells[0]!.samples[0]!.completion, r.cells[0]!.samples[0]!.stop, r.cells[0]!.samples[0]!.outcome], ["x+x+x+x", "max", "syntax"]);
  });
});

describe("codegen with the sim families (documented behaviour, docs/tasks.md)", () => {
  it("sim:collapsed?peak=1&jitter=0 always writes the least likely variant (a wrong one); sim:d?peak=1 is one-hot; sim:e?noise=0 has the pool's entropy", async () => {
    const problems = (await loadProblems()).slice(0, 3);
    const s = { n: 5, temperatures: [1], runs: 2, seed: 3, ks: [1, 5], maxTokens: 10, limits: LIMITS };
    const col = (await runCodegen("sim:collapsed?peak=1&jitter=0&leak=0", problems, s)).summaries[0]!;
    assert.deepEqual([col.pass_at_k["1"], col.diversity.distinct_passing, col.diversity.distinct_failing, col.diversity.edit_distance], [0, 0, 1, 0]);
    const d = (await runCodegen("sim:d?peak=1", problems, s)).summaries[0]!;
    assert.deepEqual([d.profile.mean_entropy, d.profile.top1_gt_0_9], [0, 1]);
    const e = (await runCodegen("sim:e?noise=0", problems, s)).summaries[0]!;
    // Pool: canonical 0.7, two wrong variants 0.15 each.
    close(e.profile.mean_entropy, -(0.7 * Math.log(0.7) + 2 * 0.15 * Math.log(0.15)), 1e-12);
    assert.equal(e.profile.top1_gt_0_9, 0);
  });
});

describe("ptalign task codegen", () => {
  it("prints the per-temperature table and stores the task result", async () => {
    const out = join(await tempDir(), "results");
    const res = await ptalign(["task", "codegen", "--model", "sim:e", "--model", "sim:d", "--limit", "4", "-n", "5", "--temperature", "0.2,1", "--runs", "2", "--k", "1,5", "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split("\n");
    assert.match(lines[0]!, /^model\s+T\s+pass@1\s+pass@5\s+pass1_sd\s+distinct_pass\s+distinct_fail\s+edit_dist\s+entropy\s+top1>0\.9\s+off_format$/);
    assert.equal(lines.filter((l) => /^sim:[de]\s/.test(l)).length, 4);
    assert.match(res.stdout, /2 task results added to .*\/tasks\n$/);
  });
  it("--dry-run prints the generations and a calibrated estimate per model, and runs nothing else", async () => {
    const out = join(await tempDir(), "results");
    const res = await ptalign(["task", "codegen", "--model", "sim:e", "--model", "sim:d", "--limit", "3", "--dry-run", "--out", out]);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split("\n");
    // The default sweep: n 5 × T 0.2, 0.8 × 2 runs.
    assert.equal(lines[0], "3 problems × 2 temperatures (0.2, 0.8) × 2 runs × n 5 = 60 generations per model");
    assert.match(lines[2]!, /^model\s+generations\s+calibration\s+per decision\s+decisions\/sample\s+estimate$/);
    // sim models make one decision per sample (the program): 2 temperatures, one sample each.
    assert.match(lines[3]!, /^sim:e\s+60\s+2 samples, 2 decisions in \d+\.\d\d s\s+\d+\.\d ms\s+1\.0\s+\d/);
    assert.match(res.stdout, /Nothing was stored\.\n$/);
    const { existsSync } = await import("node:fs");
    assert.equal(existsSync(out), false);
    const json = await ptalign(["task", "codegen", "--model", "sim:e", "--limit", "2", "-n", "3", "--runs", "4", "--temperature", "1", "--dry-run", "--json"]);
    const [e] = JSON.parse(json.stdout);
    assert.equal(e.generations, 2 * 3 * 4);
    assert.equal(e.calibration.samples, 1);
    assert.equal(e.upper_bound, false);
    assert.ok(Math.abs(e.estimate_seconds - (e.calibration.open_seconds + 24 * e.seconds_per_sample)) < 1e-9);
  });
  it("--dry-run on a generated GGUF model: a calibration sample cut at its cap bounds the estimate by --max-tokens", async () => {
    const dir = await tempDir();
    const looping = join(dir, "looping.gguf");
    await writeBigramModel(looping, { pieces: ["x", "+"], defaultRow: { x: 1 }, rows: { x: { "+": 1 }, "+": { x: 1 } } });
    const res = await ptalign(["task", "codegen", "--model", looping, "--limit", "1", "--temperature", "1", "--max-tokens", "200", "--dry-run", "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const [e] = JSON.parse(res.stdout);
    assert.deepEqual([e.calibration.samples, e.calibration.decisions, e.upper_bound, e.decisions_per_sample], [1, 16, true, 200]);
    close(e.seconds_per_sample, 200 * e.seconds_per_decision, 1e-12);
    const stable = join(dir, "stable.gguf");
    const p = await sumArray();
    await writeBigramModel(stable, codeWriterSpec([{ text: p.canonical_solution!, prob: 1 }]));
    const ok = await ptalign(["task", "codegen", "--model", stable, "--limit", "1", "--temperature", "0.5", "--dry-run", "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    const [f] = JSON.parse(ok.stdout);
    // The first built-in problem is sumArray: two line tokens and </s>, ended within the cap.
    assert.deepEqual([f.calibration.decisions, f.upper_bound, f.decisions_per_sample], [3, false, 3]);
  });
  it("an off-format model (sim:e?leak=0.9 writes prose 90% of the time) gets a warning naming the share", async () => {
    const res = await ptalign(["task", "codegen", "--model", "sim:e?leak=0.9", "--limit", "4", "-n", "5", "--temperature", "0.2", "--runs", "1", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const [r] = JSON.parse(res.stdout) as CodegenResult[];
    const s = r!.summaries[0]!;
    assert.equal(s.off_format, r!.cells.flatMap((c) => c.samples).filter((x) => x.outcome === "syntax").length / 20);
    assert.ok(s.off_format > 0.5, String(s.off_format));
    assert.match(res.stderr, /^ptalign: warning: sim:e\?.* at T=0\.2: off-format: \d+% of the samples are not a program/m);
    assert.ok(r!.warnings!.some((w) => /off-format/.test(w)));
  });
  it("bad input exits 2 with one line: malformed JSONL (line number), a failing canonical solution", async () => {
    const dir = await tempDir();
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, '{"task_id":"a","prompt":"function f(){\\n","entry_point":"f","test":"function check(c){}"}\nnot json\n');
    let res = await ptalign(["task", "codegen", "--model", "sim:e", "--problems", bad, "--no-save"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^ptalign: .*bad\.jsonl:2: not valid JSON/);
    assert.equal(res.stderr.trim().split("\n").length, 1);
    const failing = join(dir, "failing.jsonl");
    await writeFile(failing, JSON.stringify({ task_id: "x/1", prompt: "function f(a) {\n", entry_point: "f", test: "function check(c) { assert.strictEqual(c(2), 4); }", canonical_solution: "  return a + 1;\n}\n" }) + "\n");
    res = await ptalign(["task", "codegen", "--model", "sim:e", "--problems", failing, "--no-save"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /problem x\/1: its canonical_solution fails its own tests \(AssertionError: 3 === 4\)/);
  });
});
