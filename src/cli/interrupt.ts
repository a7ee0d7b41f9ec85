// Ctrl-C and SIGTERM for the commands that can stop cleanly. bin/ptalign.js owns the process's signal handlers and
// hands main() an Interruption; a command that can stop at a boundary (run, a study, a task) takes its AbortSignal
// and passes it to the library, which stops at the next step, keeps what is finished and throws Interrupted. A
// command that never takes it (ls, report, view, …) is simply ended by the signal, as without handlers.
// AsyncLocalStorage keeps one main() call's interruption apart from another's (tests call main in-process).

import { AsyncLocalStorage } from "node:async_hooks";

export interface Interruption {
  /** Aborted (with an Interrupted as its reason) when the first SIGINT or SIGTERM arrives. */
  readonly signal: AbortSignal;
  /** Set once the running command has taken the signal: it stops cleanly, so the first signal must not end the process. */
  taken: boolean;
}

const current = new AsyncLocalStorage<Interruption>();

export function withInterruption<T>(interruption: Interruption | undefined, work: () => Promise<T>): Promise<T> {
  return interruption ? current.run(interruption, work) : work();
}

/** The signal of this main() call, marked as taken: from here on a Ctrl-C stops the command at its next boundary. */
export function takeSignal(): AbortSignal | undefined {
  const i = current.getStore();
  if (!i) return undefined;
  i.taken = true;
  return i.signal;
}
