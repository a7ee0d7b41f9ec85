// An interrupted measurement (Ctrl-C, SIGTERM, a full disk): kept in the store, resumed by the same command. Schema 2
// allows the statuses running, done and failed only (a CHECK that SQLite cannot alter without rebuilding the table,
// which ptalign 0.1.0 could then no longer read), so an interrupted measurement is stored as failed with an error that
// starts with "interrupted" — 0.1.0 reads it as failed — and every store reads it back as the status "interrupted".

import type { RunStatus } from "./types.ts";

const PREFIX = "interrupted";

/** The stored error of an interrupted measurement ("interrupted (SIGINT) after 120 steps"). */
export function interruptedError(why: string): string {
  return why.startsWith(PREFIX) ? why : `${PREFIX}: ${why}`;
}

/** The status a reader sees, from the stored status column and error. */
export function statusOf(column: string, error: string | null): RunStatus {
  if (column === "failed" && error?.startsWith(PREFIX)) return "interrupted";
  return column as RunStatus;
}

/** What the status column holds for a status (interrupted is stored as failed, see above). */
export function columnOf(status: RunStatus): "running" | "done" | "failed" {
  return status === "interrupted" ? "failed" : status;
}
