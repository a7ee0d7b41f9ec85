// Code-generation problems in the HumanEval JSONL layout: task_id, prompt, entry_point, test, optional
// canonical_solution. MultiPL-E's JavaScript files use `tests` and `stop_tokens`; both are accepted. Our own set
// (data/codegen/problems.jsonl) adds `wrong_solutions`: plausible wrong completions its tests must reject.

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { z } from "zod";
import { InputError } from "../../errors.ts";
import { DEFAULT_LIMITS, execute, type Execution, type SandboxLimits } from "./sandbox.ts";

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
}

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
});

/** Parses JSONL text; every error names the file and line. */
export function parseProblems(text: string, file = "problems"): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  text.split("\n").forEach((line, i) => {
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
      throw new InputError(`${where}: ${issue.path.join(".") || "line"}: ${issue.message}; expected the HumanEval layout {task_id, prompt, entry_point, test, canonical_solution?}`);
    }
    const r = parsed.data;
    if (r.language && !/^(js|javascript|ts|typescript)$/i.test(r.language)) throw new InputError(`${where}: language "${r.language}" is not supported; only JavaScript and TypeScript problems can be executed`);
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
    if (r.language && /^(ts|typescript)$/i.test(r.language)) p.language = "ts";
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

export async function loadProblems(file: string = BUILTIN_PROBLEMS): Promise<Problem[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read problems file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseProblems(text, file);
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
  if (problem.language !== "ts") return execute(code, limits);
  // TypeScript: strip the types (no type checking, like tsx) and run the JavaScript that remains.
  let js: string;
  try {
    js = transformSync(code, { loader: "ts", target: "es2022" }).code;
  } catch (err) {
    const first = (err as { errors?: { text: string }[] }).errors?.[0]?.text ?? String(err);
    return { passed: false, outcome: "syntax", reason: `syntax error: ${first.split("\n")[0]}`, output: "", ms: 0 };
  }
  return execute(js, limits);
}

/**
 * Every canonical solution must pass its tests (and every listed wrong solution must fail them): otherwise the
 * problem cannot tell a right program from a wrong one. Throws InputError naming the first problem that does not.
 */
export async function validateProblems(problems: readonly Problem[], limits: SandboxLimits = DEFAULT_LIMITS): Promise<void> {
  for (const p of problems) {
    if (p.canonical_solution !== undefined) {
      const r = await runCompletion(p, p.canonical_solution, limits);
      if (!r.passed) throw new InputError(`problem ${p.task_id}: its canonical_solution fails its own tests (${r.reason}); fix the solution or the tests`);
    }
    for (const [i, wrong] of (p.wrong_solutions ?? []).entries()) {
      const r = await runCompletion(p, wrong, limits);
      if (r.passed) throw new InputError(`problem ${p.task_id}: wrong_solutions[${i}] passes the tests; the tests must reject it`);
    }
  }
}
