// A server's next-token answer must be (part of) a probability distribution; one that is not is a server fault, and
// renormalising it would turn the fault into numbers that look measured (a token listed twice made the visible mass
// 1.4, `unknown` 0 and the verdict E). Refused in one line naming the server and what is wrong.
import { RunError } from "../../errors.ts";

/**
 * Float tolerance: servers compute in float32 (a certain token comes back as logprob 1e-7, a top-20 sums to
 * 1.00001); anything beyond this is not rounding.
 */
export const TOLERANCE = 1e-3;

export interface Entry {
  /** The token's id when the server gives it, else its bytes. */
  key: number | string;
  logprob: number;
  /** Text to name the token by in the message. */
  shown: string;
}

/** What is wrong with `entries` as the visible part of a distribution, or undefined when nothing is. */
export function distributionFault(entries: readonly Entry[]): string | undefined {
  const seen = new Set<number | string>();
  const name = (e: Entry) => `token ${JSON.stringify(e.shown)}${typeof e.key === "number" ? ` (id ${e.key})` : ""}`;
  let mass = 0;
  for (const e of entries) {
    if (Number.isNaN(e.logprob)) return `log-probability NaN for ${name(e)}`;
    if (e.logprob > TOLERANCE) return `log-probability ${e.logprob} > 0 for ${name(e)} (a probability above 1)`;
    // Token text without ids or bytes is lossy (invalid UTF-8 shows as U+FFFD): only exact keys are compared.
    const lossy = typeof e.key === "string" && e.key.includes("\xef\xbf\xbd");
    if (!lossy && seen.has(e.key)) return `${name(e)} listed twice`;
    seen.add(e.key);
    mass += Math.exp(e.logprob);
  }
  if (mass > 1 + TOLERANCE) return `the listed probabilities sum to ${+mass.toFixed(4)} > 1`;
  return undefined;
}

/** Throws RunError (exit 1) when `entries` cannot be part of a distribution. */
export function checkDistribution(server: string, entries: readonly Entry[]): void {
  const fault = distributionFault(entries);
  if (fault) throw new RunError(`${server} answered with next-token probabilities that are not a distribution: ${fault}; this is a fault of the server (check its version and settings), ptalign does not repair it`);
}
