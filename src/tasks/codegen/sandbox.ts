// The code-generation sandbox: every program (a problem's prompt + a completion + the problem's tests) runs in a
// fresh V8 isolate (isolated-vm), with its own heap capped by `memoryLimit`, a wall-clock `timeout`, and nothing
// of Node inside it: no require, no process, no fs, no net, no child_process, no fetch, no timers. The only things
// the isolate can reach are what we put into it here: a console whose output is counted (and cut off) on the host
// side, and a `require` that answers "assert"/"node:assert" with an assert module written in plain JavaScript
// inside the isolate (MultiPL-E's JavaScript tests start with `const assert = require('node:assert')`).
//
// Why isolated-vm and not node:vm: node:vm contexts share the host's heap and event loop, and the host's objects
// leak into them (`this.constructor.constructor("return process")()` returns the host's process); Node's docs say
// node:vm is not a security mechanism. An isolated-vm isolate is a separate V8 heap with no references to the host
// unless passed explicitly, a hard heap limit (the isolate is disposed when it is exceeded) and a timeout that
// terminates running code — the same mechanism as a separate V8 instance, without a process per sample.

import ivm from "isolated-vm";

export interface SandboxLimits {
  /** Wall-clock limit of one execution, in milliseconds. */
  timeoutMs: number;
  /** Heap limit of the isolate, in MB (isolated-vm's minimum is 8). */
  memoryMb: number;
  /** Characters of console output kept; more ends the execution as a failure. */
  maxOutputChars: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { timeoutMs: 2000, memoryMb: 32, maxOutputChars: 64 * 1024 };

/**
 * Why an execution failed; "passed" when it ran to the end without an exception (and, under the "silent" rule,
 * without printing). "printed": it printed under the "silent" rule.
 */
export type Outcome = "passed" | "failed" | "error" | "syntax" | "timeout" | "memory" | "output" | "printed";

export interface Execution {
  passed: boolean;
  outcome: Outcome;
  /** One line: the exception's message or the limit that ended the execution. */
  reason: string;
  /** Console output (cut at maxOutputChars), stdout and stderr interleaved. */
  output: string;
  /** Whether anything was written to stdout / stderr. */
  printed?: { stdout: boolean; stderr: boolean };
  ms: number;
}

// Runs inside the isolate before the program: console, an assert module, a `require` that knows the pure Node
// built-ins a function may touch (assert, util), and CommonJS `module` / `exports` for the program's wrapper.
const PRELUDE = String.raw`
(function () {
  const g = globalThis;
  const out = g.__ptalign_out; delete g.__ptalign_out;
  const consoleAssertPrints = g.__ptalign_silent; delete g.__ptalign_silent;
  const show = (v) => { try { return typeof v === "string" ? v : typeof v === "function" ? "[Function: " + (v.name || "(anonymous)") + "]" : JSON.stringify(v) ?? String(v); } catch (e) { return String(v); } };
  const format = (...args) => {
    if (typeof args[0] !== "string" || !/%[sdifjoOc%]/.test(args[0])) return args.map(show).join(" ");
    let i = 1;
    const head = args[0].replace(/%([sdifjoOc%])/g, (m, c) => {
      if (c === "%") return "%";
      if (i >= args.length) return m;
      const v = args[i++];
      if (c === "s") return typeof v === "string" ? v : show(v);
      if (c === "d" || c === "i") return String(c === "i" ? parseInt(v) : Number(v));
      if (c === "f") return String(parseFloat(v));
      if (c === "c") return "";
      return show(v);
    });
    return [head, ...args.slice(i).map(show)].join(" ");
  };
  // Only a string ever crosses to the host (a program may have replaced Array.prototype.join and friends).
  const write = (stream) => (...args) => { const line = format(...args); out(stream, typeof line === "string" ? line : "[unprintable]"); };
  class AssertionError extends Error { constructor(m) { super(m); this.name = "AssertionError"; } }
  const fail = (m, d) => { throw new AssertionError(m === undefined ? d : String(m)); };
  const deep = (a, b, strict) => {
    if (strict ? Object.is(a, b) : (a == b || (a !== a && b !== b))) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (a instanceof Map && b instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && deep(v, b.get(k), strict));
    if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deep(a[k], b[k], strict));
  };
  const assert = (v, m) => { if (!v) fail(m, "assertion failed: " + show(v)); };
  assert.ok = assert;
  assert.AssertionError = AssertionError;
  assert.fail = (m) => fail(m, "failed");
  assert.equal = (a, b, m) => { if (!(a == b)) fail(m, show(a) + " == " + show(b)); };
  assert.notEqual = (a, b, m) => { if (a == b) fail(m, show(a) + " != " + show(b)); };
  assert.strictEqual = (a, b, m) => { if (!Object.is(a, b)) fail(m, show(a) + " === " + show(b)); };
  assert.notStrictEqual = (a, b, m) => { if (Object.is(a, b)) fail(m, show(a) + " !== " + show(b)); };
  assert.deepEqual = (a, b, m) => { if (!deep(a, b, false)) fail(m, show(a) + " deepEqual " + show(b)); };
  assert.deepStrictEqual = (a, b, m) => { if (!deep(a, b, true)) fail(m, show(a) + " deepStrictEqual " + show(b)); };
  assert.notDeepStrictEqual = (a, b, m) => { if (deep(a, b, true)) fail(m, show(a) + " notDeepStrictEqual " + show(b)); };
  assert.throws = (f, _e, m) => { try { f(); } catch (e) { return; } fail(typeof _e === "string" ? _e : m, "expected a throw"); };
  assert.strict = assert;
  Object.freeze(assert);
  // The pure part of node:util that programs use to format or compare values.
  const util = Object.freeze({ format, inspect: show, isDeepStrictEqual: (a, b) => deep(a, b, true),
    inherits: (c, p) => { Object.setPrototypeOf(c.prototype, p.prototype); Object.setPrototypeOf(c, p); },
    types: Object.freeze({ isDate: (v) => v instanceof Date, isRegExp: (v) => v instanceof RegExp, isMap: (v) => v instanceof Map, isSet: (v) => v instanceof Set, isPromise: (v) => v instanceof Promise }) });
  const builtins = { assert, "assert/strict": assert, util };
  const fixed = (name, value) => Object.defineProperty(g, name, { value, writable: false, configurable: false, enumerable: false });
  g.assert = assert; // configurable: MultiPL-E tests declare their own "const assert = require(...)"
  // Everything else (fs, net, child_process, npm packages) does not exist here: nothing outside the isolate is reachable.
  fixed("require", (name) => {
    const key = String(name).replace(/^node:/, "");
    if (Object.prototype.hasOwnProperty.call(builtins, key)) return builtins[key];
    throw new Error("module " + JSON.stringify(String(name)) + " is not available in the sandbox");
  });
  // console.assert: HumanEval-X's tests call it; under node it prints "Assertion failed" to stderr (the official
  // harness then fails the sample because something was printed). Our own layouts make it throw instead.
  const consoleAssert = consoleAssertPrints
    ? (v, ...m) => { if (!v) out("stderr", m.length ? "Assertion failed: " + format(...m) : "Assertion failed"); }
    : (v, ...m) => { if (!v) fail(m.length ? m.map(show).join(" ") : undefined, "console.assert failed"); };
  // The harness cannot be switched off by the completion: assert is frozen, require and console are fixed.
  fixed("console", Object.freeze({ log: write("stdout"), info: write("stdout"), debug: write("stdout"), warn: write("stderr"), error: write("stderr"), trace: write("stderr"), assert: consoleAssert }));
  // WebAssembly memory lives outside the isolate's heap limit (a Memory grown to 4 GB passed --memory 32), and no
  // benchmark program needs WebAssembly: it does not exist here. Its namespace object is the only way to reach it.
  delete g.WebAssembly;
  // Whatever the program throws is turned into one plain string here, inside the isolate and under its time limit:
  // a thrown value whose message getter or Proxy trap loops would otherwise run when the host copies it out,
  // outside any limit. Only primordials captured before the program runs are used; the result is always a string.
  const S = String, slice = S.prototype.slice, call = Function.prototype.call.bind(Function.prototype.call);
  const errorProto = Error.prototype, protoOf = Object.getPrototypeOf;
  const isError = (e) => { for (let p = protoOf(e); p !== null; p = protoOf(p)) if (p === errorProto) return true; return false; };
  const text = (v) => typeof v === "string" ? v : v === undefined ? "" : (typeof v === "object" || typeof v === "function") && v !== null ? "[object]" : S(v);
  const describe = (e) => {
    let out;
    try {
      if (e !== null && (typeof e === "object" || typeof e === "function") && isError(e)) {
        const name = text(e.name), message = text(e.message);
        out = name && name !== "Error" && call(slice, message, 0, name.length) !== name ? name + ": " + message : message;
      } else out = typeof e === "symbol" ? "Symbol()" : S(e);
    } catch (_) {
      out = "a thrown value that cannot be described";
    }
    out = typeof out === "string" ? out : "a thrown value that cannot be described";
    return out.length > 2000 ? call(slice, out, 0, 2000) : out;
  };
  // Runs the program and answers "" when it ran to the end, "\u0001" + the description of what it threw, or
  // "\u0002" + the description of its syntax error (it threw before its first statement ran). Indirect eval of a
  // string, not our text around the program's: no completion can close our try block and throw past it.
  const indirectEval = eval;
  let started = false;
  fixed("__ptalign_started", () => { started = true; });
  fixed("__ptalign_run", () => {
    const source = g.__ptalign_source; delete g.__ptalign_source;
    try {
      indirectEval(source);
    } catch (e) {
      return (started ? "\u0001" : "\u0002") + describe(e);
    }
    return "";
  });
})();
`;

/**
 * How a program's result is judged. "throws": it passes unless it throws (node's exit code; MultiPL-E, our own set).
 * "silent": it passes only if it throws nothing and prints nothing to stdout or stderr (HumanEval-X's harness, whose
 * tests use console.assert, which prints).
 */
export type PassRule = "throws" | "silent";

/**
 * Node's CommonJS wrapper: the program runs as the body of a function of (exports, require, module, __filename,
 * __dirname), as `node program.js` runs it, so `module.exports = f` works and top-level declarations stay local.
 */
export function commonJs(code: string): string {
  return `(function (module) { (function (exports, require, module, __filename, __dirname) {${code}\n}).call(module.exports, module.exports, require, module, "/sandbox/program.js", "/sandbox"); })({ exports: {}, id: ".", filename: "/sandbox/program.js", loaded: false, children: [], paths: [] });\n`;
}

class OutputLimit extends Error {}

/** How long past its time limit an execution may run before the host gives up on it (see `watched`). */
const WATCHDOG_GRACE_MS = 1000;

class Abandoned extends Error {}

/**
 * Characters of program per MB of isolate heap: a 32 MB isolate compiles a 512 KB program of the worst shape (one
 * array literal) in under a second; 10 MB aborted the process. Real completions and tests are a few KB.
 */
const PROGRAM_CHARS_PER_MB = 16 * 1024;

/**
 * The host-side watchdog: settles `work` within `ms` whatever the isolate is doing. When the isolate's own timeout
 * cannot fire (it does not cover everything isolated-vm does outside the program), the isolate is disposed and the
 * execution abandoned as a timeout; the host's event loop never waits on it.
 */
async function watched<T>(work: Promise<T>, isolate: ivm.Isolate, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (!isolate.isDisposed) isolate.dispose();
      reject(new Abandoned("timed out (abandoned by the watchdog)"));
    }, ms);
  });
  try {
    return await Promise.race([work, overrun]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
  }
}

/**
 * Runs `code` as `node` runs a CommonJS file (inside Node's module wrapper) in a fresh isolate under `limits`, and
 * judges it by `rule`. Never throws for anything the code does.
 */
export async function execute(code: string, limits: SandboxLimits = DEFAULT_LIMITS, rule: PassRule = "throws"): Promise<Execution> {
  const started = Date.now();
  const isolate = new ivm.Isolate({ memoryLimit: Math.max(8, limits.memoryMb) });
  let output = "";
  let overflow = false;
  const printed = { stdout: false, stderr: false };
  const done = (passed: boolean, outcome: Outcome, reason: string): Execution => ({ passed, outcome, reason: oneLine(reason), output, printed, ms: Date.now() - started });
  try {
    const context = await isolate.createContext();
    await context.global.set("__ptalign_silent", rule === "silent");
    await context.global.set("__ptalign_out", new ivm.Callback((stream: string, text: string) => {
      printed[stream === "stderr" ? "stderr" : "stdout"] = true;
      if (overflow) throw new OutputLimit(`output limit of ${limits.maxOutputChars} characters exceeded`);
      const room = limits.maxOutputChars - output.length;
      output += String(text).slice(0, Math.max(0, room)) + "\n";
      if (String(text).length + 1 > room) {
        overflow = true;
        throw new OutputLimit(`output limit of ${limits.maxOutputChars} characters exceeded`);
      }
    }));
    await (await isolate.compileScript(PRELUDE)).run(context, { timeout: limits.timeoutMs });
    // V8 aborts the whole process, not just the isolate, when parsing a very large program exhausts the isolate's
    // heap (a 10 MB array literal under 32 MB): programs beyond what the limit can compile are refused unread.
    const maxChars = Math.max(8, limits.memoryMb) * PROGRAM_CHARS_PER_MB;
    if (code.length > maxChars) return done(false, "memory", `program of ${Math.ceil(code.length / 1024)} KB is larger than the sandbox compiles under its memory limit of ${limits.memoryMb} MB (at most ${maxChars / 1024} KB)`);
    await context.global.set("__ptalign_source", `__ptalign_started();\n${commonJs(code)}`);
    const runner = await isolate.compileScript("__ptalign_run()", { filename: "runner.js" });
    const thrown = await watched(runner.run(context, { timeout: Math.max(1, limits.timeoutMs - (Date.now() - started)) }), isolate, limits.timeoutMs + WATCHDOG_GRACE_MS);
    if (overflow) return done(false, "output", `output limit of ${limits.maxOutputChars} characters exceeded`);
    if (typeof thrown === "string" && thrown.startsWith("\u0002")) return done(false, "syntax", `syntax error: ${thrown.slice(1)}`);
    if (typeof thrown === "string" && thrown.startsWith("\u0001")) {
      const msg = thrown.slice(1);
      if (/^(AssertionError)/.test(msg)) return done(false, "failed", msg);
      return done(false, "error", msg);
    }
    if (rule === "silent" && (printed.stdout || printed.stderr)) {
      const first = output.split("\n")[0] ?? "";
      // A failed console.assert is how HumanEval-X's tests report a wrong answer.
      if (/^Assertion failed/.test(first)) return done(false, "failed", `console.assert failed (printed "${first}")`);
      return done(false, "printed", `printed to ${printed.stdout ? "stdout" : "stderr"} ("${first}"); HumanEval-X passes only programs that print nothing`);
    }
    return done(true, "passed", "passed");
  } catch (err) {
    const msg = message(err);
    if (overflow) return done(false, "output", `output limit of ${limits.maxOutputChars} characters exceeded`);
    if (/memory limit/i.test(msg) || (isolate.isDisposed && !/timed out/i.test(msg) && Date.now() - started < limits.timeoutMs)) {
      return done(false, "memory", `memory limit of ${limits.memoryMb} MB exceeded`);
    }
    if (/timed out|disposed/i.test(msg)) return done(false, "timeout", `time limit of ${limits.timeoutMs} ms exceeded`);
    if (/^(AssertionError)/.test(msg)) return done(false, "failed", msg);
    return done(false, "error", msg);
  } finally {
    if (!isolate.isDisposed) isolate.dispose();
  }
}

function message(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== "Error" && !err.message.startsWith(err.name) ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}

function oneLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
