// Code-generation problems as published, one JSON object per line (.jsonl or .jsonl.gz): the HumanEval layout
// (task_id, prompt, entry_point, test, canonical_solution), HumanEval-X's (task_id "JavaScript/N", declaration,
// example_test; tests with console.assert), MultiPL-E's (name, language, tests, stop_tokens). Our own set
// (data/codegen/problems.jsonl) adds `wrong_solutions`: plausible wrong completions its tests must reject.
// Each layout is judged by its own harness's pass rule (docs/tasks.md).

import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { z } from "zod";
import { InputError } from "../../errors.ts";
import { readInputFile } from "../../limits.ts";
import { decodeUtf8 } from "../../text.ts";
import { DEFAULT_LIMITS, execute, type Execution, type PassRule, type SandboxLimits } from "./sandbox.ts";

/** Whose file this is: decides the program's shape and the pass rule. */
export type Layout = "humaneval" | "humaneval-x" | "multipl-e";

export interface Problem {
  task_id: string;
  /** Code the model continues: a function header with its documentation. */
  prompt: string;
  entry_point: string;
  /** Test code: defines check(candidate) (HumanEval) or runs its asserts itself (MultiPL-E). */
  test: string;
  canonical_solution?: string;
  wrong_solutions?: string[];
  /** Strings that end a completion (MultiPL-E's stop_tokens); DEFAULT_STOPS when absent. */
  stop?: string[];
  /** "ts": the program is TypeScript; its types are stripped (esbuild) before it runs. Default "js". */
  language?: "js" | "ts";
  /** The layout the row came in; "humaneval" when absent. */
  layout?: Layout;
}

/** The official pass rule of a layout: HumanEval-X's harness fails any program that prints (docs/tasks.md). */
export const passRule = (p: Pick<Problem, "layout">): PassRule => (p.layout === "humaneval-x" ? "silent" : "throws");

/** MultiPL-E's JavaScript stop sequences: the next top-level definition or statement ends the function. */
export const DEFAULT_STOPS = ["\nfunction ", "\n/*", "\n//", "\nconsole.log", "\n```"];

export const BUILTIN_PROBLEMS = fileURLToPath(new URL("../../../data/codegen/problems.jsonl", import.meta.url));

const Row = z.object({
  task_id: z.union([z.string().min(1), z.number()]).optional(),
  name: z.string().min(1).optional(),
  prompt: z.string().min(1),
  entry_point: z.string().regex(/^[A-Za-z_$][\w$]*$/, "entry_point must be a JavaScript identifier").optional(),
  test: z.string().min(1).optional(),
  tests: z.string().min(1).optional(),
  canonical_solution: z.string().optional(),
  wrong_solutions: z.array(z.string()).optional(),
  stop_tokens: z.array(z.string()).optional(),
  language: z.string().optional(),
  declaration: z.string().optional(),
  example_test: z.string().optional(),
});

const LANGUAGES: Record<string, string> = { js: "JavaScript", javascript: "JavaScript", ts: "TypeScript", typescript: "TypeScript", py: "Python", python: "Python", cpp: "C++", "c++": "C++", java: "Java", go: "Go", rs: "Rust", rust: "Rust", cs: "C#", php: "PHP", rb: "Ruby", lua: "Lua", r: "R", jl: "Julia", sh: "Bash", swift: "Swift", scala: "Scala", rkt: "Racket", pl: "Perl", d: "D", ml: "OCaml", hs: "Haskell", kt: "Kotlin", elixir: "Elixir", clj: "Clojure" };
// HumanEval-X's task_id prefixes ("HumanEval/0", OpenAI's original, is Python but says so only through its prompt).
const TASK_PREFIX: Record<string, string> = { javascript: "JavaScript", js: "JavaScript", python: "Python", cpp: "C++", java: "Java", go: "Go", rust: "Rust" };

/**
 * The language a row is written in: its `language` field (MultiPL-E), its task_id prefix (HumanEval-X's
 * "JavaScript/0", "Python/0", …; OpenAI HumanEval's "HumanEval/0" is Python), else what the prompt looks like.
 */
// A Python prompt: a def or an import at the start of a line, and nothing JavaScript-like.
const looksPython = (prompt: string) => /^\s*(def\s+[A-Za-z_]\w*\s*\(|from\s+[\w.]+\s+import\b|import\s+\w+\s*$)/m.test(prompt) && !/\bfunction\s*[\w$]*\s*\(|=>\s*\{|^\s*(const|let|var)\s+[\w$]+\s*=/m.test(prompt);

export function languageOf(row: { language?: string | undefined; task_id?: string | number | undefined; prompt: string }): string {
  if (row.language) return LANGUAGES[row.language.toLowerCase()] ?? row.language;
  const prefix = /^([A-Za-z+]+)\/\d+$/.exec(String(row.task_id ?? ""))?.[1]?.toLowerCase();
  if (prefix && TASK_PREFIX[prefix]) return TASK_PREFIX[prefix]!;
  if (looksPython(row.prompt)) return "Python";
  return "JavaScript";
}

/** Parses JSONL text; every error names the file and line. */
export function parseProblems(text: string, file = "problems"): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  // A byte-order mark (Windows editors write one) is not part of the first line's JSON.
  text.replace(/^\uFEFF/, "").split("\n").forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new InputError(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)}); each line must be one JSON object`);
    }
    const parsed = Row.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`${where}: ${issue.path.join(".") || "line"}: ${issue.message}; expected the HumanEval layout {task_id, prompt, entry_point, test, canonical_solution?} (or HumanEval-X's, or MultiPL-E's)`);
    }
    const r = parsed.data;
    const language = languageOf(r);
    if (language !== "JavaScript" && language !== "TypeScript") {
      const how = r.language ? `language "${r.language}"` : `task_id "${r.task_id ?? r.name ?? ""}"`;
      throw new InputError(`${where}: these problems are ${language} (${how}); the sandbox runs only JavaScript and TypeScript, so use HumanEval-X's humaneval_js.jsonl.gz or MultiPL-E's humaneval-js / humaneval-ts file`);
    }
    const test = r.test ?? r.tests;
    if (!test) throw new InputError(`${where}: missing "test" (or MultiPL-E "tests"); every problem needs test code`);
    const id = String(r.task_id ?? r.name ?? "");
    if (!id) throw new InputError(`${where}: missing "task_id"`);
    if (seen.has(id)) throw new InputError(`${where}: task_id "${id}" appears twice; task ids must be unique`);
    seen.add(id);
    const entry = r.entry_point ?? functionName(r.prompt);
    if (!entry) throw new InputError(`${where}: missing "entry_point" and the prompt declares no function`);
    const p: Problem = { task_id: id, prompt: r.prompt, entry_point: entry, test };
    if (r.canonical_solution !== undefined) p.canonical_solution = r.canonical_solution;
    if (r.wrong_solutions) p.wrong_solutions = r.wrong_solutions;
    if (r.stop_tokens) p.stop = r.stop_tokens;
    if (language === "TypeScript") p.language = "ts";
    if (r.declaration !== undefined || r.example_test !== undefined || /^JavaScript\/\d+$/.test(id)) p.layout = "humaneval-x";
    else if (r.tests !== undefined) p.layout = "multipl-e";
    out.push(p);
  });
  if (out.length === 0) throw new InputError(`${file}: no problems (the file is empty)`);
  return out;
}

function functionName(prompt: string): string | undefined {
  // `function name(` (HumanEval, MultiPL-E) or `const name = (` / `const name = function` (HumanEval-X).
  const all = [...prompt.matchAll(/function\s+([A-Za-z_$][\w$]*)\s*\(|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?(?:\(|function\b|[A-Za-z_$][\w$]*\s*=>)/g)];
  const last = all.at(-1);
  return last?.[1] ?? last?.[2];
}

/** Reads a problems file, gunzipping it when it is gzip data (HumanEval-X ships .jsonl.gz). */
export async function loadProblems(file: string = BUILTIN_PROBLEMS): Promise<Problem[]> {
  let bytes: Buffer;
  try {
    // Size-capped, gzip included (a 1 MB .jsonl.gz can inflate to 1 GB): src/limits.ts.
    bytes = await readInputFile(file, { gunzip: true });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read problems file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseProblems(decodeUtf8(bytes, file, "problems file"), file);
}

/**
 * The program a completion is judged by: prompt + completion, then the tests, then `check(entry_point)` when the
 * tests define a `check` function (HumanEval); MultiPL-E tests call their own test function.
 */
export function program(problem: Problem, completion: string): string {
  const callsCheck = /\bfunction\s+check\s*\(|\b(?:const|let|var)\s+check\s*=/.test(problem.test);
  return `${problem.prompt}${completion}\n\n${problem.test}\n${callsCheck ? `check(${problem.entry_point});\n` : ""}`;
}

export async function runCompletion(problem: Problem, completion: string, limits: SandboxLimits = DEFAULT_LIMITS): Promise<Execution> {
  const code = program(problem, completion);
  if (problem.language !== "ts") return execute(code, limits, passRule(problem));
  // TypeScript: strip the types (no type checking, like tsx) and run the JavaScript that remains.
  let js: string;
  try {
    js = transformSync(code, { loader: "ts", target: "es2022" }).code;
  } catch (err) {
    const first = (err as { errors?: { text: string }[] }).errors?.[0]?.text ?? String(err);
    return { passed: false, outcome: "syntax", reason: `syntax error: ${first.split("\n")[0]}`, output: "", ms: 0 };
  }
  return execute(js, limits, passRule(problem));
}

/** A problem the check found unusable: its canonical solution fails, or one of its wrong solutions passes. */
export interface ProblemFailure {
  task_id: string;
  reason: string;
}

/**
 * Runs every canonical solution against its tests (and every listed wrong solution, which must fail them): a problem
 * that does not hold cannot tell a right program from a wrong one. Returns the problems that hold and, all at once,
 * the ones that do not, each with its reason.
 */
export async function checkProblems(problems: readonly Problem[], limits: SandboxLimits = DEFAULT_LIMITS): Promise<{ ok: Problem[]; failed: ProblemFailure[] }> {
  const ok: Problem[] = [];
  const failed: ProblemFailure[] = [];
  for (const p of problems) {
    let reason: string | undefined;
    if (p.canonical_solution !== undefined) {
      const r = await runCompletion(p, p.canonical_solution, limits);
      if (!r.passed) reason = `its canonical_solution fails its own tests (${r.reason})`;
    }
    for (const [i, wrong] of (p.wrong_solutions ?? []).entries()) {
      if (reason) break;
      const r = await runCompletion(p, wrong, limits);
      if (r.passed) reason = `wrong_solutions[${i}] passes the tests; the tests must reject it`;
    }
    if (reason) failed.push({ task_id: p.task_id, reason });
    else ok.push(p);
  }
  return { ok, failed };
}

/** The failures of checkProblems in one line: "problem A: reason; problem B: reason". */
export function describeFailures(failed: readonly ProblemFailure[]): string {
  return failed.map((f) => `problem ${f.task_id}: ${f.reason}`).join("; ");
}

/** checkProblems, refusing (InputError, one line naming every failing problem) when any problem does not hold. */
export async function validateProblems(problems: readonly Problem[], limits: SandboxLimits = DEFAULT_LIMITS): Promise<void> {
  const { failed } = await checkProblems(problems, limits);
  if (failed.length > 0) throw new InputError(`${failed.length === 1 ? "" : `${failed.length} problems do not hold: `}${describeFailures(failed)}; fix the solutions or the tests, or run without --check strict to skip them (--no-check skips the check)`);
}
