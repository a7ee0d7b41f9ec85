// Issue 20, items 1 and 2: model-written code never runs outside the isolate's limits. A thrown value whose
// `message` getter or Proxy trap loops ends as a timeout within the limit (it used to spin the host forever), and
// WebAssembly (whose memory is outside the isolate's heap limit) does not exist in the sandbox.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { execute } from "../../src/tasks/index.ts";

const LIMITS = { timeoutMs: 500, memoryMb: 32, maxOutputChars: 4096 };
// The limit plus the watchdog's grace plus isolate start-up on a loaded machine.
const WALL_MS = LIMITS.timeoutMs + 2500;

describe("sandbox hardening: thrown values are described inside the isolate, under its time limit", () => {
  const hostile: [string, string][] = [
    ["an Error whose message getter loops", `const e = new Error("x"); Object.defineProperty(e, "message", { get() { for (;;) {} } }); throw e;`],
    ["a Proxy whose get trap loops", `throw new Proxy({}, { get() { for (;;) {} } });`],
    ["a Proxy whose getPrototypeOf trap loops", `throw new Proxy({}, { getPrototypeOf() { for (;;) {} } });`],
    ["an object whose toString loops", `throw { toString() { for (;;) {} } };`],
    ["an Error whose name getter loops, as a HumanEval-X program", `const e = new TypeError("x"); Object.defineProperty(e, "name", { get() { for (;;) {} } }); throw e;`],
  ];
  for (const [name, code] of hostile) {
    it(`${name}: a timeout within the limit`, async (t) => {
      const t0 = Date.now();
      const r = await execute(code, LIMITS, name.includes("HumanEval-X") ? "silent" : "throws");
      const wall = Date.now() - t0;
      assert.equal(r.passed, false);
      assert.equal(r.outcome, "timeout", r.reason);
      t.diagnostic(`wall ${wall} ms`);
      assert.ok(wall < WALL_MS, `took ${wall} ms`);
    });
  }

  it("an Error whose message getter throws, a thrown symbol and a thrown object are described, not fatal", async () => {
    const getterThrows = await execute(`const e = new Error("x"); Object.defineProperty(e, "message", { get() { throw 1; } }); throw e;`, LIMITS);
    assert.deepEqual([getterThrows.outcome, getterThrows.reason], ["error", "a thrown value that cannot be described"]);
    assert.deepEqual([(await execute(`throw Symbol("s");`, LIMITS)).reason], ["Symbol()"]);
    assert.deepEqual([(await execute(`throw { a: 1 };`, LIMITS)).reason], ["[object Object]"]);
    assert.deepEqual([(await execute(`throw new RangeError("r");`, LIMITS)).reason], ["RangeError: r"]);
  });

  it("a program cannot throw past the runner by closing its wrapper", async () => {
    const r = await execute(`}}); throw new Proxy({}, { get() { for (;;) {} } }); (function(){{`, LIMITS);
    assert.equal(r.outcome, "syntax");
  });

  it("console output a program forges through replaced built-ins stays a string", async () => {
    const r = await execute(`Array.prototype.join = function () { return new Proxy({}, { get() { for (;;) {} } }); }; console.log(1, 2);`, LIMITS);
    assert.equal(r.passed, true);
    assert.equal(r.output, "[unprintable]\n");
  });
});

describe("sandbox hardening: memory outside the isolate's heap", () => {
  // Measured in a child process: its peak RSS (VmHWM) is the host's, whatever the isolate allocated.
  /** `source`: a JavaScript expression the child evaluates to the program (a 10 MB program cannot go through argv). */
  const child = (source: string) => {
    const script = `import { execute } from ${JSON.stringify(fileURLToPath(new URL("../../src/tasks/index.ts", import.meta.url)))};
      const r = await execute(${source}, { timeoutMs: 2000, memoryMb: 32, maxOutputChars: 4096 });
      const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))?.[1] ?? NaN);
      console.log(JSON.stringify({ outcome: r.outcome, reason: r.reason, peakMb: Math.max(hwm / 1024, process.resourceUsage().maxRSS / 1024) }));`.replace("require(\"node:fs\")", "(await import(\"node:fs\"))");
    const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    assert.equal(out.status, 0, out.stderr);
    return JSON.parse(out.stdout.trim().split("\n").pop()!) as { outcome: string; reason: string; peakMb: number };
  };

  const childOf = (code: string) => child(JSON.stringify(code));

  it("WebAssembly does not exist: a 4 GB Memory cannot be grown under --memory 32 (peak RSS bounded)", (t) => {
    const r = childOf(`const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(65000); const u = new Uint8Array(m.buffer); for (let i = 0; i < u.length; i += 4096) u[i] = 1;`);
    assert.equal(r.outcome, "error");
    assert.match(r.reason, /WebAssembly is not defined/);
    t.diagnostic(`peak RSS ${Math.round(r.peakMb)} MB`);
    assert.ok(r.peakMb < 300, `peak RSS ${r.peakMb} MB`);
  });

  it("a 10 MB program is refused as memory (it aborted the whole process; issue 20 item 8: was recorded as syntax)", (t) => {
    const r = child(`"const a = [" + "1,".repeat(5_000_000) + "1];"`);
    t.diagnostic(`peak RSS ${Math.round(r.peakMb)} MB`);
    assert.equal(r.outcome, "memory");
    assert.match(r.reason, /program of 9766 KB is larger than the sandbox compiles under its memory limit of 32 MB \(at most 512 KB\)/);
    assert.ok(r.peakMb < 300, `peak RSS ${r.peakMb} MB`);
  });

  it("large ArrayBuffers count against the heap limit (peak RSS bounded)", (t) => {
    const r = childOf(`const keep = []; for (let i = 0; i < 64; i++) { const b = new Uint8Array(64 * 1024 * 1024); for (let j = 0; j < b.length; j += 4096) b[j] = 1; keep.push(b); }`);
    assert.notEqual(r.outcome, "passed");
    t.diagnostic(`peak RSS ${Math.round(r.peakMb)} MB`);
    assert.ok(r.peakMb < 300, `peak RSS ${r.peakMb} MB (${r.outcome}: ${r.reason})`);
  });
});
