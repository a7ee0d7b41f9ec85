// How `npm test` (test/run.ts) lays the suite out in test processes, and runs it.
//
// Each test process costs ~1.5 CPU-s before its first test (node, the test runner, tsx's loader thread, then src and
// its dependencies through that loader): with one process per file that was a fifth of the suite's CPU on 2 cores.
// So the files of one folder share a process, loaded in turn by a small entry file, unless a file says near its top
//
//     // test-process: own — <why>
//
// because it has top-level hooks (`before(…)`, `beforeEach(…)` or `afterEach(…)` at the top of a file would run
// around every file of a shared process, and node 20 runs a top-level `after(…)` as soon as the tests registered so
// far are done, possibly before the next file's: a shared file with any of them is refused), because it leaves
// process-wide state it cannot undo (a registered task), or
// because it is heavy enough (~15 CPU-s) that it should run beside the others rather than after them. A file whose
// subject is a child process (signals, exit codes, kill -9, concurrent writers) shares a process like any other: the
// child is what it tests, not the test process. Within a shared process the files run one after another, each
// file's tests in order, as in a process of its own.
import { spawn, type StdioOptions } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const OWN = /^\/\/ test-process: own\b/m;
const TOP_LEVEL_HOOK = /^(before|beforeEach|afterEach|after)\(/m;
/** Files of one folder per shared process, at most: a longer process would become the suite's tail. */
export const PER_SHARED_PROCESS = 8;

export interface SuitePlan {
  /** Files that run in a process of their own. */
  own: string[];
  /** Files that share a process, one list per process (all from one folder). */
  shared: string[][];
}

/** The test files of a test directory: <dir>/<folder>/*.test.ts, sorted. */
export function testFiles(testDir: string): string[] {
  return readdirSync(testDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(testDir, d.name)).filter((f) => f.endsWith(".test.ts")).map((f) => join(testDir, d.name, f)))
    .sort();
}

/** Which files run alone and which share a process (by folder, at most PER_SHARED_PROCESS per process). */
export function planSuite(files: readonly string[]): SuitePlan {
  const own: string[] = [];
  const byFolder = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (OWN.test(text)) own.push(file);
    else if (TOP_LEVEL_HOOK.test(text)) {
      throw new Error(`${file} has a top-level hook, which would run around every file of a shared test process: move it into a describe(), or mark the file "// test-process: own — <why>"`);
    } else byFolder.set(dirname(file), [...(byFolder.get(dirname(file)) ?? []), file]);
  }
  const shared: string[][] = [];
  for (const group of byFolder.values()) {
    const n = Math.ceil(group.length / PER_SHARED_PROCESS);
    for (let i = 0; i < n; i++) shared.push(group.filter((_, j) => j % n === i));
  }
  return { own, shared };
}

export interface Entry {
  /** The entry file's name: `node --test` sorts the files it is given, so the names sort in start order. */
  name: string;
  /** The test files it imports, in order. */
  files: string[];
}

/**
 * One entry file per test process, in the order they should start: the files of their own first (the long ones: one
 * started last would be the suite's tail), then the shared groups.
 */
export function entriesOf(plan: SuitePlan): Entry[] {
  const groups = [...plan.own.map((f) => [f]), ...plan.shared];
  const width = String(groups.length).length;
  return groups.map((files, i) => ({ name: `${String(i).padStart(width, "0")}-${basename(dirname(files[0]!))}-${basename(files[0]!, ".test.ts")}.test.mjs`, files }));
}

/** Writes an entry file into `dir`: it imports its files in order (each registers its tests as it loads). */
function writeEntry(dir: string, entry: Entry): string {
  const path = join(dir, entry.name);
  const imports = entry.files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};`);
  writeFileSync(path, `// ${entry.files.join(", ")}\n${imports.join("\n")}\n`);
  return path;
}

export interface RunOptions {
  /** The test directory whose <folder>/*.test.ts make the suite. */
  testDir: string;
  /** Files to run instead, each in a process of its own (as `node --test FILE…` would). */
  files?: string[];
  /** Test processes at a time. */
  concurrency: number;
  /** Passed to `node --test` (reporters, name patterns…). */
  flags?: string[];
  stdio?: StdioOptions;
}

/** Runs the suite through `node --test`; resolves to its exit code. */
export async function runSuite(options: RunOptions): Promise<number> {
  let files = options.files ?? [];
  let entries: string | undefined;
  if (files.length === 0) {
    entries = mkdtempSync(join(tmpdir(), "ptalign-test-run-"));
    files = entriesOf(planSuite(testFiles(options.testDir))).map((entry) => writeEntry(entries!, entry));
  }
  try {
    // tsx as resolved from here, so a suite outside this repository (the layout's own test) loads it too.
    const argv = ["--import", import.meta.resolve("tsx"), "--test", `--test-concurrency=${options.concurrency}`, ...(options.flags ?? []), ...files];
    // NODE_TEST_CONTEXT would make `node --test` report to a parent runner: a suite run from inside a test is a suite.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, argv, { cwd: dirname(options.testDir), env, stdio: options.stdio ?? "inherit" });
    // Ctrl-C at a terminal reaches the test processes too (one process group), so the runner only waits for them; a
    // SIGTERM sent to the runner alone is passed on.
    const onInt = (): void => undefined;
    const onTerm = (): void => void child.kill("SIGTERM");
    process.on("SIGINT", onInt).on("SIGTERM", onTerm);
    try {
      return await new Promise<number>((resolve, reject) => {
        child.on("error", reject);
        child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 143)));
      });
    } finally {
      process.off("SIGINT", onInt).off("SIGTERM", onTerm);
    }
  } finally {
    if (entries) rmSync(entries, { recursive: true, force: true });
  }
}
