// The real CLI as a child process, for tests whose subject is the process: signals, its own stdout (/dev/full).
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { BIN } from "./cli.ts";

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** bin/ptalign.js in a child process; `stdout` may be a file descriptor (e.g. of /dev/full). */
export function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; stdout?: number } = {}): { child: ChildProcess; exit: Promise<Exit> } {
  const stdio: StdioOptions = ["ignore", opts.stdout ?? "pipe", "pipe"];
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CI: "1", PTALIGN_DEBUG: "", ...opts.env }, stdio });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, exit };
}

/** One value read from DIR/ptalign.db on a connection of its own, read-only: undefined while it does not exist. */
export function queryStore<T>(dir: string, sql: string): T | undefined {
  const file = join(dir, "ptalign.db");
  if (!existsSync(file)) return undefined;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).get() as T;
    } finally {
      db.close();
    }
  } catch {
    return undefined; // being created
  }
}

export const stepsStored = (dir: string): number => queryStore<{ n: number }>(dir, "SELECT count(*) AS n FROM steps")?.n ?? 0;
export const claimsHeld = (dir: string): number => queryStore<{ n: number }>(dir, "SELECT count(*) AS n FROM claims")?.n ?? 0;

export async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Runs the CLI and sends `signal` once the store in `dir` holds `steps` steps. */
export async function interruptAfter(args: string[], dir: string, steps: number, signal: NodeJS.Signals): Promise<Exit> {
  const { child, exit } = spawnCli(args);
  await waitFor(`${steps} stored steps`, () => stepsStored(dir) >= steps);
  child.kill(signal);
  return exit;
}
