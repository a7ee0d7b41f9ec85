// Two kinds of failure the CLI maps to exit codes (contract: 2 = bad input/usage, 1 = run failure).
// Messages are one line: what is wrong, then what to do.

/** The user's input is wrong (DIST, config, flags, model file): exit 2. */
export class InputError extends Error {
  override name = "InputError";
}

/** The run failed for a reason outside the input (server down, engine failure): exit 1. */
export class RunError extends Error {
  override name = "RunError";
}

/**
 * Batch mode (remote servers through a Batch API): a request whose answer is not imported yet. A run failure, but one
 * that does not stop the other runs: each goes on to collect its own next requests (checked with instanceof).
 */
export class PendingRequest extends RunError {
  override name = "PendingRequest";
}

/** The signals a CLI run stops for; their exit codes follow the shell's convention, 128 + the signal's number. */
export type StopSignal = "SIGINT" | "SIGTERM";
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The user stopped the work (Ctrl-C, SIGTERM): not a failure of the measurement. The library throws it at the next
 * step boundary once its AbortSignal is aborted; what was finished is kept and a rerun resumes it.
 */
export class Interrupted extends RunError {
  override name = "Interrupted";
  constructor(readonly signal: StopSignal, message = `interrupted (${signal})`) {
    super(message);
  }
}

/** The error an aborted signal stands for: its reason when that is an Interrupted, otherwise an interruption by SIGINT. */
export function interruption(signal: AbortSignal): Interrupted {
  return signal.reason instanceof Interrupted ? signal.reason : new Interrupted("SIGINT");
}

/** Throws the interruption when the signal is aborted: the check at a step (or problem, or user) boundary. */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interruption(signal);
}

/**
 * The disk (or quota) is full: no result can be written now. A run failure (exit 1), never bad input: what was stored
 * stays and the same command resumes once there is room.
 */
export class DiskFull extends RunError {
  override name = "DiskFull";
}

/** Errors that mean "no space left": the file system's (ENOSPC, EDQUOT) and SQLite's (SQLITE_FULL). */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof DiskFull) return true;
  const c = (err as { code?: unknown } | undefined)?.code;
  return c === "ENOSPC" || c === "EDQUOT" || c === "SQLITE_FULL";
}
