import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/ptalign.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as a user would (CI set, so no progress bar). */
export function ptalign(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; /** a command that runs node, e.g. setpriv … */ prefix?: string[] } = {}): Promise<CliResult> {
  const [cmd, ...argv] = [...(options.prefix ?? []), process.execPath, BIN, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, argv, { cwd: options.cwd, env: { ...process.env, CI: "1", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
