import { InvalidArgumentError } from "commander";
import { SingleBar } from "cli-progress";
import { InputError, Interrupted, RunError, SIGNAL_EXIT } from "../errors.ts";

/** Commander argument parsers that reject bad numbers with the flag's name and the rule. */
export const wholeNumber = (flag: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be a whole number ≥ ${min} (got ${value})`);
  return n;
};

export const realNumber = (flag: string, min: number, max = Infinity) => (value: string): number => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${flag} must be a number ${max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`} (got ${value})`);
  }
  return n;
};

/** Exit code of the CLI contract for an error: 2 bad input, 1 run failure, 130 / 143 interrupted by SIGINT / SIGTERM. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof Interrupted) return SIGNAL_EXIT[err.signal];
  return err instanceof InputError ? 2 : 1;
}

/** One line for the user; stack traces only with PTALIGN_DEBUG=1. */
export function reportError(err: unknown): void {
  const known = err instanceof InputError || err instanceof RunError;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ptalign: ${known ? "" : "internal error: "}${message.split("\n")[0]}\n`);
  if (process.env.PTALIGN_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

/**
 * A progress bar on stderr that appears only once work has taken more than a second, and never when stderr is not
 * a terminal, under CI, or when --json output goes to a pipe.
 */
export class Progress {
  private bar: SingleBar | undefined;
  private readonly started = Date.now();
  private readonly enabled: boolean;
  private done = 0;

  constructor(private readonly total: number, private readonly label: string, json: boolean) {
    this.enabled = Boolean(process.stderr.isTTY) && !process.env.CI && !(json && !process.stdout.isTTY);
  }

  tick(): void {
    this.done++;
    if (!this.enabled) return;
    if (!this.bar && Date.now() - this.started > 1000) {
      this.bar = new SingleBar({ format: `${this.label} [{bar}] {value}/{total} steps | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
      this.bar.start(this.total, this.done);
    }
    this.bar?.update(this.done);
  }

  stop(): void {
    this.bar?.stop();
  }
}

export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
  return value.toFixed(digits);
}

/** A text cut to at most n characters (the cut said with "… (N chars)"), on one line: names and targets can be huge. */
export function abbreviate(text: string, n = 80): string {
  const oneLine = (t: string) => t.replace(/\s*[\r\n]+\s*/g, " ");
  if (text.length <= n) return oneLine(text);
  const tail = `… (${text.length} chars)`;
  return oneLine(text.slice(0, Math.max(1, n - tail.length))) + tail;
}

/** Left-aligned text table with a header row (widths by a loop: a spread of 360,000 rows into Math.max overflows the stack). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? "").length);
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
