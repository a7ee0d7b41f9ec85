// The target flags `run` and `metrics` share (--target-file, --precision, --peer-tests, --reference-samples), how
// they become a Target and settings, and the table rows of the continuous and peer tests both commands print.
import type { Command } from "commander";
import { parseDist, readTargetFile } from "../distributions/index.ts";
import { InputError } from "../errors.ts";
import type { Metrics, Target } from "../types.ts";
import { fmt, wholeNumber } from "./common.ts";

export interface TargetFlags {
  target?: string;
  targetFile?: string;
  normalize?: boolean;
  precision?: number;
  peerTests?: boolean;
  referenceSamples?: number;
}

/** Adds the shared flags after --target (which each command declares with its own help). */
export function addTargetOptions<C extends Command>(cmd: C): C {
  return cmd
    .option("--target-file <file>", "P_task from data: counts or probabilities per answer (CSV answer,value or JSON), instead of --target")
    .option("--precision <d>", "continuous targets: decimals the model writes (answers are bins of width 10^-d)", wholeNumber("--precision", 0), undefined)
    .option("--peer-tests", "add the bad-dice peers' tests: two-sample KS and W1 against seeded reference draws, chi-square with sparse tail cells merged")
    .option("--reference-samples <n>", "with --peer-tests: reference draws (default: as many as the samples)", wholeNumber("--reference-samples", 1)) as C;
}

/** The target of --target or --target-file (exactly one of them; `needed` names the command's usage). */
export async function loadTarget(flags: TargetFlags, needed: string): Promise<Target> {
  if (flags.target !== undefined && flags.targetFile !== undefined) throw new InputError("give either --target or --target-file, not both");
  if (flags.targetFile !== undefined) return readTargetFile(flags.targetFile, { normalize: flags.normalize });
  if (flags.target === undefined) throw new InputError(needed);
  return parseDist(flags.target, { normalize: flags.normalize, precision: flags.precision });
}

/** The peers' tests of --peer-tests and --reference-samples (a measurement's `peerTests`); undefined without --peer-tests. */
export function peerTestsInput(flags: TargetFlags): { reference?: number } | undefined {
  return flags.peerTests ? (flags.referenceSamples ? { reference: flags.referenceSamples } : {}) : undefined;
}

/** settings.peer_tests for --peer-tests (read back by summarise): `metrics`, which records no measurement configuration. */
export function peerSettings(flags: TargetFlags): { peer_tests?: { reference?: number } } {
  const peer = peerTestsInput(flags);
  return peer ? { peer_tests: peer } : {};
}

const num = (x: number): string => String(Number(x.toPrecision(6)));

/** Rows for continuous targets (KS, W1 against the distribution, the range's tail) and the peers' recipe when present. */
export function continuousRows(target: Target, m: Pick<Metrics, "ks" | "ks_p" | "w1_dist" | "n_values" | "peers">): [string, number | null, string][] {
  const c = target.continuous;
  const rows: [string, number | null, string][] = [];
  if (c) {
    rows.push(["ks_p", m.ks_p ?? null, `one-sample KS vs the CDF, D = ${fmt(m.ks ?? null)} (${m.n_values ?? 0} values)`]);
    rows.push(["w1_dist", m.w1_dist ?? null, "Wasserstein-1 of the values vs the distribution"]);
    rows.push(["tail", c.tail, `target mass outside ${num(c.range[0])}..${num(c.range[1])} (bins of width ${num(c.bin_width)})`]);
  }
  const p = m.peers;
  if (p) {
    if (p.ks2_p !== null) rows.push(["peer_ks2_p", p.ks2_p, `two-sample KS vs ${p.n_ref} reference draws, D = ${fmt(p.ks2)}`]);
    if (p.w1_ref !== null) rows.push(["peer_w1", p.w1_ref, "Wasserstein-1 of the values vs the reference draws"]);
    rows.push(["peer_chi2_p", p.chi2_p, `chi2 = ${fmt(p.chi2, 2)}, df ${p.df ?? "-"}, tail cells with expected count < 5 merged`]);
  }
  return rows;
}
