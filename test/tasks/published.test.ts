// Published code benchmarks as downloaded: HumanEval-X (JavaScript, .jsonl.gz), MultiPL-E (JS, TS), OpenAI's
// HumanEval (Python: refused in one line). Fixtures are built here in the files' own layouts, never committed.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { checkProblems, loadProblems, parseProblems, runCompletion } from "../../src/tasks/index.ts";
import type { CodegenResult } from "../../src/tasks/codegen/run.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const LIMITS = { timeoutMs: 1000, memoryMb: 16, maxOutputChars: 4096 };

// HumanEval-X's JavaScript rows: task_id, prompt (docstring + declaration), canonical_solution, test (console.assert,
// calls its own test function), declaration, example_test.
const hx = (i: number, name: string, params: string, doc: string, body: string, asserts: string[]) => ({
  task_id: `JavaScript/${i}`,
  prompt: `/* ${doc}\n  */\nconst ${name} = (${params}) => {\n`,
  canonical_solution: body,
  test: `const test${name} = () => {\n${asserts.map((a) => `  console.assert(${a})\n`).join("")}}\n\ntest${name}()\n`,
  declaration: `\nconst ${name} = (${params}) => {\n`,
  example_test: `const test${name} = () => {\n  console.assert(${asserts[0]})\n}\ntest${name}()\n`,
});
const HAS_CLOSE = hx(0, "hasCloseElements", "numbers, threshold", "Check if in given list of numbers, are any two numbers closer to each other than\n  given threshold.", "  for (let i = 0; i < numbers.length; i++) {\n    for (let j = 0; j < numbers.length; j++) {\n      if (i != j) {\n        let distance = Math.abs(numbers[i] - numbers[j]);\n        if (distance < threshold) {\n          return true;\n        }\n      }\n    }\n  }\n  return false;\n}\n\n", ["hasCloseElements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) === true", "hasCloseElements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) === false", "hasCloseElements([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) === true"]);
// Wrong in the dataset (like JavaScript/112 and /155): its canonical solution fails its own console.assert.
const WRONG_CANONICAL = hx(1, "evenOddCount", "num", "Given an integer, return a tuple of the number of even and odd digits.", "  let o = 0, e = 0\n  for (const d of String(Math.abs(num))) { if (d % 2 == 0) { o++ } else { e++ } }\n  return (e, o)\n}\n", ["JSON.stringify(evenOddCount(7)) === JSON.stringify([0, 1])"]);
// Needs an npm package (like JavaScript/162 and js-md5).
const NEEDS_NPM = hx(2, "stringToMd5", "text", "Given a string, return its md5 hash.", "  if (text == '') { return null }\n  var md5 = require('js-md5')\n  return md5(text)\n}\n", ["stringToMd5('Hello world') === '3e25960a79dbc69b674cd4ec67a72c62'"]);

async function humanEvalX(dir: string, gz: boolean, rows: object[] = [HAS_CLOSE, WRONG_CANONICAL, NEEDS_NPM]): Promise<string> {
  const text = rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const file = join(dir, gz ? "humaneval_js.jsonl.gz" : "humaneval_js.jsonl");
  await writeFile(file, gz ? gzipSync(text) : text);
  return file;
}

describe("HumanEval-X JavaScript as downloaded (.jsonl.gz)", () => {
  it("reads the gzip file, knows the layout, and lists every problem whose canonical solution fails, with its reason", async () => {
    const file = await humanEvalX(await tempDir(), true);
    const problems = await loadProblems(file);
    assert.deepEqual(problems.map((p) => [p.task_id, p.entry_point, p.layout]), [["JavaScript/0", "hasCloseElements", "humaneval-x"], ["JavaScript/1", "evenOddCount", "humaneval-x"], ["JavaScript/2", "stringToMd5", "humaneval-x"]]);
    const { ok, failed } = await checkProblems(problems, LIMITS);
    assert.deepEqual(ok.map((p) => p.task_id), ["JavaScript/0"]);
    assert.deepEqual(failed.map((f) => f.task_id), ["JavaScript/1", "JavaScript/2"]);
    assert.match(failed[0]!.reason, /console\.assert failed \(printed "Assertion failed"\)/);
    assert.match(failed[1]!.reason, /module "js-md5" is not available in the sandbox/);
  });

  it("the official pass rule: canonical passes; canonical + a print fails; canonical + module.exports passes", async () => {
    const [p] = parseProblems(JSON.stringify(HAS_CLOSE));
    const canonical = HAS_CLOSE.canonical_solution;
    const run = (completion: string) => runCompletion(p!, completion, LIMITS);
    assert.deepEqual(((r) => [r.passed, r.outcome])(await run(canonical)), [true, "passed"]);
    for (const print of ["console.log('dbg')", "console.error('dbg')", "console.warn(1, 2)", "console.info({a: 1})"]) {
      const r = await run(`${canonical}${print}\n`);
      assert.deepEqual([r.passed, r.outcome], [false, "printed"], print);
      assert.match(r.reason, /HumanEval-X passes only programs that print nothing/);
    }
    // Written inside the function (after the return) it never runs: nothing printed, a pass, as under node.
    assert.equal((await run(canonical.replace("  return false;\n}", "  return false;\n  console.log('unreachable');\n}"))).passed, true);
    for (const tail of ["module.exports = hasCloseElements;", "module.exports = { hasCloseElements };", "exports.hasCloseElements = hasCloseElements;", "if (typeof module !== 'undefined') module.exports = hasCloseElements;"]) {
      const r = await run(`${canonical}${tail}\n`);
      assert.deepEqual([r.passed, r.outcome, r.reason], [true, "passed", "passed"], tail);
    }
    // A wrong solution: console.assert prints "Assertion failed" (as under node) and the sample fails.
    const wrong = await run("  return true;\n}\n");
    assert.deepEqual([wrong.passed, wrong.outcome], [false, "failed"]);
    // Node built-ins a pure function may touch behave as under node; the rest stays unreachable.
    assert.equal((await run(`${canonical}const util = require('util'); if (util.format('%d-%s', 3, 'x') !== '3-x' || !util.isDeepStrictEqual([1], [1])) throw new Error('util');\n`)).passed, true);
    assert.equal((await run(`${canonical}const assert = require('node:assert'); assert.strictEqual(hasCloseElements([1, 1.05], 0.1), true);\n`)).passed, true);
    for (const mod of ["fs", "node:child_process", "net", "http", "worker_threads", "js-md5"]) {
      const r = await run(`${canonical}require('${mod}');\n`);
      assert.deepEqual([r.passed, r.outcome], [false, "error"], mod);
      assert.match(r.reason, /is not available in the sandbox/);
    }
    // module / exports / require / __filename are the module wrapper's, as in `node program.js`.
    assert.equal((await run(`${canonical}if (this !== module.exports || exports !== module.exports || typeof __filename !== 'string' || typeof require !== 'function') throw new Error('wrapper');\n`)).passed, true);
  });

  it("ptalign task codegen: skips the failing problems with one warning naming them, records them, --check strict refuses, --no-check runs them", async () => {
    const dir = await tempDir();
    const file = await humanEvalX(dir, true);
    let res = await ptalign(["task", "codegen", "--model", "sim:e?leak=0", "--problems", file, "-n", "2", "--temperature", "0.2", "--runs", "2", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const warnings = res.stderr.trim().split("\n");
    assert.match(warnings[0]!, /^ptalign: warning: skipping 2 of 3 problems .*problem JavaScript\/1: its canonical_solution fails its own tests \(console\.assert failed.*problem JavaScript\/2: .*module "js-md5" is not available/);
    // Only the canonical solution in the pool: the sim comparison cannot discriminate, and says so.
    assert.match(warnings[1]!, /^ptalign: warning: sim:e\?.*cannot discriminate: no problem has wrong_solutions/);
    const [r] = JSON.parse(res.stdout) as CodegenResult[];
    assert.deepEqual(r!.problems, ["JavaScript/0"]);
    assert.deepEqual(r!.skipped!.map((s) => s.task_id), ["JavaScript/1", "JavaScript/2"]);
    assert.deepEqual(r!.settings.pass_rules, { "humaneval-x": "silent" });
    // Identical runs: the spread is exactly 0 (not 1.4e-16).
    assert.equal(r!.summaries[0]!.stability.pass1_sd, 0);
    assert.ok(r!.warnings!.some((w) => /cannot discriminate/.test(w)));

    res = await ptalign(["task", "codegen", "--model", "sim:e", "--problems", file, "--check", "strict", "--no-save"]);
    assert.equal(res.code, 2);
    assert.equal(res.stderr.trim().split("\n").length, 1);
    assert.match(res.stderr, /^ptalign: --check strict: 2 of 3 problems do not hold: problem JavaScript\/1: .*; problem JavaScript\/2: .*drop --check strict/);

    res = await ptalign(["task", "codegen", "--model", "sim:e?leak=0", "--problems", file, "--no-check", "-n", "1", "--temperature", "0", "--runs", "1", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const [all] = JSON.parse(res.stdout) as CodegenResult[];
    assert.deepEqual(all!.cells.map((c) => [c.task_id, c.c]), [["JavaScript/0", 1], ["JavaScript/1", 0], ["JavaScript/2", 0]]);
    assert.equal(all!.skipped, undefined);
  });

  it("the same file uncompressed reads the same; a damaged gzip is one line", async () => {
    const dir = await tempDir();
    const plain = await loadProblems(await humanEvalX(dir, false));
    assert.deepEqual(plain, await loadProblems(await humanEvalX(dir, true)));
    const bad = join(dir, "bad.jsonl.gz");
    await writeFile(bad, gzipSync("{}\n").subarray(0, 12));
    const res = await ptalign(["task", "codegen", "--model", "sim:e", "--problems", bad, "--no-save"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^ptalign: .*bad\.jsonl\.gz: damaged gzip data .*download the file again\n$/);
  });
});

describe("MultiPL-E (humaneval-js, humaneval-ts) as downloaded", () => {
  const js = { name: "HumanEval_0_has_close_elements", language: "js", prompt: "//Check if in given array of numbers, are any two numbers closer to each other than\n// given threshold.\nfunction has_close_elements(numbers, threshold){\n", doctests: "transform", original: "../datasets/originals/HumanEval_0_has_close_elements.py", prompt_terminology: "reworded", tests: "const assert = require('node:assert');\n\n\nfunction test() {\n  let candidate = has_close_elements;\n  assert.deepEqual(candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3),true);\n  assert.deepEqual(candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05),false);\n}\n\ntest();", stop_tokens: ["\nfunction ", "\n/*", "\n\n"] };
  const body = "  for (let i = 0; i < numbers.length; i++)\n    for (let j = i + 1; j < numbers.length; j++)\n      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n  return false;\n}\n";
  it("JS: node's exit-code rule (printing is allowed), module.exports works, a wrong solution fails", async () => {
    const dir = await tempDir();
    const file = join(dir, "humaneval-js-reworded.jsonl.gz");
    await writeFile(file, gzipSync(JSON.stringify(js) + "\n"));
    const [p] = await loadProblems(file);
    assert.deepEqual([p!.entry_point, p!.layout, p!.stop], ["has_close_elements", "multipl-e", js.stop_tokens]);
    assert.equal((await runCompletion(p!, body, LIMITS)).passed, true);
    assert.equal((await runCompletion(p!, `${body}console.log("dbg");\nmodule.exports = has_close_elements;\n`, LIMITS)).passed, true);
    assert.equal((await runCompletion(p!, "  return true;\n}\n", LIMITS)).outcome, "failed");
  });
  it("TS: types stripped, same rule", async () => {
    const ts = { ...js, language: "ts", prompt: "//Check if in given array of numbers, are any two numbers closer than threshold.\nfunction has_close_elements(numbers: number[], threshold: number): boolean {\n", tests: "declare var require: any;\nconst assert = require('node:assert');\nfunction test() {\n  let candidate = has_close_elements;\n  assert.deepEqual(candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3),true);\n}\n\ntest();" };
    const [p] = parseProblems(JSON.stringify(ts));
    assert.deepEqual([p!.language, p!.layout], ["ts", "multipl-e"]);
    assert.equal((await runCompletion(p!, body.replace("let i = 0", "let i: number = 0"), LIMITS)).passed, true);
  });
  it("a language the sandbox cannot run is one line naming it, exit 2 (MultiPL-E py, HumanEval-X Python, OpenAI's HumanEval)", async () => {
    const dir = await tempDir();
    const python = { task_id: "HumanEval/0", prompt: "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    \"\"\" Check if in given list of numbers, are any two numbers closer to each other than\n    given threshold.\n    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n    \"\"\"\n", canonical_solution: "    for idx, elem in enumerate(numbers):\n        return True\n    return False\n", test: "\n\nMETADATA = {\n    'author': 'jt',\n    'dataset': 'test'\n}\n\n\ndef check(candidate):\n    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n", entry_point: "has_close_elements" };
    const cases: [string, object, RegExp][] = [
      ["HumanEval.jsonl.gz", python, /these problems are Python \(task_id "HumanEval\/0"\); the sandbox runs only JavaScript and TypeScript/],
      ["humaneval_python.jsonl.gz", { ...python, task_id: "Python/0", declaration: "def has_close_elements(numbers, threshold):\n" }, /these problems are Python \(task_id "Python\/0"\)/],
      ["humaneval_cpp.jsonl", { ...python, task_id: "CPP/0", prompt: "#include<stdio.h>\nbool has_close_elements(vector<float> numbers, float threshold){\n" }, /these problems are C\+\+/],
      ["humaneval-py.jsonl", { ...js, language: "py" }, /these problems are Python \(language "py"\)/],
    ];
    for (const [name, row, message] of cases) {
      const file = join(dir, name);
      const text = JSON.stringify(row) + "\n";
      await writeFile(file, name.endsWith(".gz") ? gzipSync(text) : text);
      const res = await ptalign(["task", "codegen", "--model", "sim:e", "--problems", file, "--no-save"]);
      assert.equal(res.code, 2, name);
      assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
      assert.match(res.stderr, message);
    }
  });
});
