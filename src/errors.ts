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
