import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { execute, parseProblems, runCompletion } from "../../src/tasks/index.ts";

const LIMITS = { timeoutMs: 400, memoryMb: 16, maxOutputChars: 4096 };

// A problem whose "completion" is hostile: each one runs inside the function body, then the tests would run.
const problem = parseProblems(JSON.stringify({ task_id: "t/0", prompt: "function id(x) {\n", entry_point: "id", test: "function check(c) { assert.strictEqual(c(2), 2); }", canonical_solution: "  return x;\n}\n" }))[0]!;
const body = (code: string) => `  ${code}\n  return x;\n}\n`;

describe("codegen sandbox (isolated-vm): every escape is contained, reported with its reason, and the run continues", () => {
  it("runs the honest solution (and the HumanEval check call) and reports passed", async () => {
    const r = await runCompletion(problem, problem.canonical_solution!, LIMITS);
    assert.deepEqual([r.passed, r.outcome], [true, "passed"]);
  });

  const attacks: [string, string, RegExp, string][] = [
    ["reads /etc/passwd", `const t = require("fs").readFileSync("/etc/passwd", "utf8"); console.log(t);`, /module "fs" is not available/, "error"],
    ["reads /etc/passwd through process", `process.mainModule.require("fs").readFileSync("/etc/passwd");`, /process is not defined/, "error"],
    ["escapes like node:vm (constructor chain to the host's process)", `this.constructor.constructor("return process")().exit(0);`, /process is not defined/, "error"],
    ["writes outside its dir", `require("node:fs").writeFileSync("/tmp/ptalign-escape", "x");`, /module "node:fs" is not available/, "error"],
    ["opens a socket", `require("net").connect(80, "example.com");`, /module "net" is not available/, "error"],
    ["fetches a URL", `fetch("http://127.0.0.1:9/");`, /fetch is not defined/, "error"],
    ["spawns a process", `require("child_process").execSync("id");`, /module "child_process" is not available/, "error"],
    ["imports a module dynamically", `import("node:child_process");`, /not supported/i, "error"],
    ["loops forever", `while (true) {}`, /time limit of 400 ms exceeded/, "timeout"],
    ["allocates without bound", `const a = []; for (;;) a.push(new Array(1e6).fill(1));`, /memory limit of 16 MB exceeded/, "memory"],
    ["prints gigabytes", `for (;;) console.log("x".repeat(1 << 20));`, /output limit of 4096 characters exceeded/, "output"],
    ["prints gigabytes and swallows the error", `for (;;) { try { console.log("x".repeat(1 << 20)); } catch (e) {} }`, /output limit/, "output"],
  ];
  for (const [name, code, reason, outcome] of attacks) {
    it(`${name}: contained`, async () => {
      // The memory case gets time to reach its limit even on a loaded machine (else it could end as a timeout).
      const r = await runCompletion(problem, body(code), outcome === "memory" ? { ...LIMITS, timeoutMs: 10_000 } : LIMITS);
      assert.equal(r.passed, false);
      assert.equal(r.outcome, outcome, r.reason);
      assert.match(r.reason, reason);
      assert.ok(r.output.length <= LIMITS.maxOutputChars + 1);
    });
  }

  it("a batch of hostile programs runs to the end, the honest one after them still passes, and nothing was written", async () => {
    const out = [];
    for (const [, code] of attacks.slice(0, 6)) out.push(await runCompletion(problem, body(code), LIMITS));
    out.push(await runCompletion(problem, problem.canonical_solution!, LIMITS));
    assert.deepEqual(out.map((r) => r.passed), [false, false, false, false, false, false, true]);
    const { existsSync } = await import("node:fs");
    assert.equal(existsSync("/tmp/ptalign-escape"), false);
  });

  it("assertion failures, console.assert and syntax errors are failures with their message", async () => {
    assert.match((await execute(`require("assert").deepStrictEqual([1, 2], [1, 3]);`, LIMITS)).reason, /AssertionError: \[1,2\] deepStrictEqual \[1,3\]/);
    assert.equal((await execute(`console.assert(1 === 2, "nope");`, LIMITS)).outcome, "failed");
    assert.equal((await execute(`function (`, LIMITS)).outcome, "syntax");
    // A completion cannot switch the harness off.
    assert.equal((await execute(`assert.strictEqual = () => {}; assert.strictEqual(1, 2);`, LIMITS)).passed, false);
    assert.equal((await execute(`console.assert = () => {}; console.assert(false);`, LIMITS)).passed, false);
    assert.equal((await execute(`Promise.resolve().then(() => require("assert").strictEqual(1, 2));`, LIMITS)).passed, false);
  });
});
