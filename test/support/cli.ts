import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/ptalign.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to (or, with undefined, removed from) the environment for this call; CI=1 always (no progress bar). */
  env?: NodeJS.ProcessEnv;
  /** A command that runs node, e.g. setpriv …: implies a child process. */
  prefix?: string[];
  /**
   * Run the real binary in a child process, saying why the process is the subject of the test (signals, the exit
   * status of bin/ptalign.js, concurrent writers, stdout/stderr as separate pipes, another user's privileges).
   * Without it the CLI runs in-process through `main(argv)`: the same code path minus ~0.5–1 s of start-up.
   */
  child?: string;
}

/**
 * The CLI as a user would run it: in-process by default (`main(argv)` with stdout/stderr captured), or as a child
 * process when `child` (or `prefix`) says the process itself is under test.
 */
export function ptalign(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return options.child !== undefined || options.prefix?.length ? inChild(args, options) : inProcess(args, options);
}

/**
 * Several calls in one child process (test/support/cliBatch.ts), in order, each as an in-process call there; for tests
 * whose subject is the process's privileges (`options.prefix`, e.g. setpriv), not its start-up.
 */
export async function inOneChild(calls: string[][], options: CliOptions = {}): Promise<CliResult[]> {
  const script = fileURLToPath(new URL("./cliBatch.ts", import.meta.url));
  const [cmd, ...argv] = [...(options.prefix ?? []), process.execPath, "--import", "tsx", script, JSON.stringify(calls)];
  const r = await spawnCaptured(cmd!, argv, options);
  if (r.code !== 0) throw new Error(`the batch of ${calls.length} CLI calls failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as CliResult[];
}

/** Runs the real CLI in a child process. */
export function inChild(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const [cmd, ...argv] = [...(options.prefix ?? []), process.execPath, BIN, ...args];
  return spawnCaptured(cmd!, argv, options);
}

/** A child process with CI=1 and the call's environment, its two output streams captured apart. */
function spawnCaptured(cmd: string, argv: string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: options.cwd, env: { ...process.env, CI: "1", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// In-process capture. Writes are routed by async context, not by time: only what the CLI call (and the async work it
// started) writes is captured, while the test runner's own reports on stdout, written from its own context at any
// moment, pass through untouched.
interface Capture { stdout: string; stderr: string }
const capturing = new AsyncLocalStorage<Capture>();
let installed = false;

function chunkText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === "string") return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
  return String(chunk);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const name of ["stdout", "stderr"] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
      const capture = capturing.getStore();
      if (!capture) return original(chunk, encoding, callback);
      capture[name] += chunkText(chunk, encoding);
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  }
}

// The environment and the working directory belong to the whole process: one in-process call at a time.
let queue: Promise<unknown> = Promise.resolve();

async function inProcess(args: string[], options: CliOptions): Promise<CliResult> {
  install();
  const turn = queue.then(() => runLocked(args, options));
  queue = turn.catch(() => undefined);
  return turn;
}

async function runLocked(args: string[], options: CliOptions): Promise<CliResult> {
  const { main } = await import("../../src/cli/main.ts");
  const env: NodeJS.ProcessEnv = { CI: "1", ...options.env };
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  const cwd = process.cwd();
  const setEnv = (k: string, v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
  for (const [k, v] of Object.entries(env)) setEnv(k, v);
  if (options.cwd) process.chdir(options.cwd);
  const capture: Capture = { stdout: "", stderr: "" };
  try {
    const code = await capturing.run(capture, () => main(args));
    return { code, stdout: capture.stdout, stderr: capture.stderr };
  } finally {
    if (options.cwd) process.chdir(cwd);
    for (const [k, v] of saved) setEnv(k, v);
  }
}
