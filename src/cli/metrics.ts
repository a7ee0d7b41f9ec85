import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { z } from "zod";
import { parseDist } from "../distributions/index.ts";
import { InputError } from "../errors.ts";
import { summarise } from "../run.ts";
import type { Run, Target } from "../types.ts";
import { summaryText } from "./run.ts";

interface MetricsFlags {
  target: string;
  ptoken: string;
  samples?: string;
  json?: boolean;
  normalize?: boolean;
  seed: number;
}

export function metricsCommand(): Command {
  return new Command("metrics")
    .description("metrics and verdict from recorded per-step distributions (no model needed)")
    .requiredOption("-t, --target <dist>", "P_task, as for `run`")
    .requiredOption("--ptoken <file>", "JSON array of runs, each an array of steps, each an array of probabilities in support order")
    .option("--samples <file>", "JSON array of runs, each an array of the answers drawn (enables sample_tvd, chi2, w1)")
    .option("--json", "print the result JSON on stdout")
    .option("--normalize", "rescale target probabilities and P_token rows that do not sum to 1")
    .option("--seed <s>", "seed of the bootstrap", (v) => Number(v), 0)
    .addHelpText(
      "after",
      `
Example (2 runs of 3 steps over the support 1, 2):
  $ echo '[[[0.9,0.1],[0.1,0.9],[0.9,0.1]],[[0.5,0.5],[0.5,0.5],[0.4,0.6]]]' > steps.json
  $ ptalign metrics --target "{1:0.5,2:0.5}" --ptoken steps.json --json`,
    )
    .action(async (flags: MetricsFlags) => {
      const target = parseDist(flags.target, { normalize: flags.normalize });
      const ptoken = await readJson(flags.ptoken, "--ptoken");
      const samples = flags.samples ? await readJson(flags.samples, "--samples") : undefined;
      const runs = toRuns(target, ptoken, samples, Boolean(flags.normalize));
      const result = summarise(`file:${flags.ptoken}`, "sequential", target, runs, { source: flags.ptoken }, undefined, flags.seed);
      process.stdout.write((flags.json ? JSON.stringify(result) : summaryText(result)) + "\n");
    });
}

async function readJson(file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read ${flag} file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${flag} file ${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

const PtokenFile = z.array(z.array(z.array(z.number())).min(1, "a run has no steps")).min(1, "no runs");
const SamplesFile = z.array(z.array(z.union([z.string(), z.number()])));

/** Validates recorded distributions against the target's support and turns them into runs (leak unknown: 0). */
export function toRuns(target: Target, ptoken: unknown, samples: unknown, normalize: boolean): Run[] {
  const parsed = PtokenFile.safeParse(ptoken);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`--ptoken: ${issue.message} at ${issue.path.length ? `[${issue.path.join("][")}]` : "the top level"}; expected an array of runs, each an array of steps, each an array of ${target.support.length} probabilities`);
  }
  let drawn: string[][] | undefined;
  if (samples !== undefined) {
    const s = SamplesFile.safeParse(samples);
    if (!s.success) throw new InputError(`--samples: expected an array of runs, each an array of answers (${s.error.issues[0]!.message})`);
    drawn = s.data.map((run) => run.map(String));
    if (drawn.length !== parsed.data.length) throw new InputError(`--samples has ${drawn.length} runs but --ptoken has ${parsed.data.length}`);
  }
  const K = target.support.length;
  return parsed.data.map((steps, r) => ({
    seed: r,
    steps: steps.map((row, t) => {
      const where = `run ${r} step ${t}`;
      if (row.length !== K) throw new InputError(`--ptoken ${where} has ${row.length} probabilities, the target has ${K} answers (${target.support.join(", ")})`);
      if (row.some((x) => !Number.isFinite(x) || x < 0)) throw new InputError(`--ptoken ${where} has a negative or non-finite probability`);
      const sum = row.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-6) {
        if (!normalize || sum === 0) throw new InputError(`--ptoken ${where} sums to ${Number(sum.toPrecision(6))}, expected 1${sum === 0 ? "" : " (use --normalize)"}`);
      }
      const sample = drawn?.[r]?.[t];
      if (drawn && sample === undefined) throw new InputError(`--samples run ${r} has no answer for step ${t}`);
      if (sample !== undefined && !target.support.includes(sample)) throw new InputError(`--samples ${where}: "${sample}" is not an answer of the target (${target.support.join(", ")})`);
      return { t, ptoken: row.map((x) => x / sum), leak: 0, sample: sample ?? null };
    }),
  }));
}
