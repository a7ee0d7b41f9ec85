import { Command } from "commander";
import { z } from "zod";

import { InputError } from "../errors.ts";
import { readInputFile } from "../limits.ts";
import { normalise } from "../rng.ts";
import { chi2Meaning, sampleTests, type SampleTests } from "../metrics/index.ts";
import { parseNumberAnswer } from "../protocols/index.ts";
import { summarise } from "../run.ts";
import type { Run, Step, Target } from "../types.ts";
import { fmt, table } from "./common.ts";
import { addTargetOptions, continuousRows, loadTarget, peerSettings, type TargetFlags } from "./targetFlags.ts";
import { summaryText } from "./summary.ts";

interface MetricsFlags extends TargetFlags {
  ptoken?: string;
  samples?: string;
  json?: boolean;
  seed: number;
}

export function metricsCommand(): Command {
  return addTargetOptions(new Command("metrics"))
    .description("metrics and verdict from recorded per-step distributions (no model needed)")
    .option("-t, --target <dist>", "P_task, as for `run`")
    .option("--ptoken <file>", "JSON array of runs, each an array of steps, each an array of probabilities in support order")
    .option("--samples <file>", "the answers drawn: JSON (array of runs of answers or numbers, or one flat array) or text (one run per line, answers separated by commas); free-form numbers count in their bin. Without --ptoken: sample tests only")
    .option("--json", "print the result JSON on stdout")
    .option("--normalize", "rescale target probabilities and P_token rows that do not sum to 1")
    .option("--seed <s>", "seed of the bootstrap", (v) => Number(v), 0)
    .addHelpText(
      "after",
      `
Example (2 runs of 3 steps over the support 1, 2):
  $ echo '[[[0.9,0.1],[0.1,0.9],[0.9,0.1]],[[0.5,0.5],[0.5,0.5],[0.4,0.6]]]' > steps.json
  $ ptalign metrics --target "{1:0.5,2:0.5}" --ptoken steps.json --json

Sample tests of numbers you already have (no P_token):
  $ printf '0.37, -1.2e-1, 3\n-0.8, 1.1\n' > draws.txt
  $ ptalign metrics --target "normal(0,1)" --samples draws.txt`,
    )
    .action(async (flags: MetricsFlags) => {
      if (flags.target === undefined && flags.targetFile === undefined) throw new InputError("metrics needs --target DIST or --target-file FILE");
      if (flags.ptoken === undefined && flags.samples === undefined) throw new InputError("metrics needs --ptoken FILE (per-step distributions), --samples FILE (answers drawn), or both");
      const target = await loadTarget(flags, "metrics needs --target DIST or --target-file FILE");
      const drawn = flags.samples ? await readSamples(flags.samples) : undefined;
      const peers = flags.peerTests ? { peers: { seed: flags.seed, ...(flags.referenceSamples ? { reference: flags.referenceSamples } : {}) } } : {};
      if (flags.ptoken === undefined) {
        const runs = drawn!.map((answers, r): Run => ({ seed: r, steps: answers.map((a, t) => answerStep(target, a, t, [])) }));
        const tests = sampleTests(target, runs, peers);
        const out = { version: 1 as const, source: flags.samples!, target, samples: tests };
        process.stdout.write((flags.json ? JSON.stringify(out) : sampleText(out.source, target, tests)) + "\n");
        return;
      }
      const ptoken = await readJson(flags.ptoken, "--ptoken");
      const runs = toRuns(target, ptoken, drawn, Boolean(flags.normalize));
      const settings = { source: flags.ptoken, ...peerSettings(flags) };
      const result = summarise(`file:${flags.ptoken}`, "sequential", target, runs, settings, undefined, flags.seed);
      process.stdout.write((flags.json ? JSON.stringify(result) : summaryText(result)) + "\n");
    });
}

/** A step from one recorded answer: a support answer, a number counted in its bin (text kept as raw), or unparsed (null + raw). */
function answerStep(target: Target, answer: string, t: number, ptoken: number[]): Step {
  const sample = parseNumberAnswer(answer, target);
  const step: Step = { t, ptoken, leak: 0, sample };
  if (sample === null || sample !== answer.trim()) step.raw = answer;
  return step;
}

/** --samples: JSON (runs of answers, or one flat array) or text (a run per line, answers split at commas). */
async function readSamples(file: string): Promise<string[][]> {
  let text: string;
  try {
    text = (await readInputFile(file)).toString("utf8");
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read --samples file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (/^\s*\[/.test(text)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new InputError(`--samples file ${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const flat = z.array(z.union([z.string(), z.number()])).safeParse(data);
    if (flat.success) return [flat.data.map(String)];
    const s = SamplesFile.safeParse(data);
    if (!s.success) throw new InputError(`--samples: expected an array of runs, each an array of answers, or one array of answers (${s.error.issues[0]!.message})`);
    return s.data.map((run) => run.map(String));
  }
  const runs = text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const parts = line.split(",").map((p) => p.trim()).filter((p) => p !== "");
      // "0.3 1.2 -0.5": numbers separated by white space only are several answers too.
      return parts.flatMap((p) => (/\s/.test(p) && p.split(/\s+/).every((w) => /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(w)) ? p.split(/\s+/) : [p]));
    });
  if (runs.length === 0) throw new InputError(`--samples file ${file} has no answers; write them one run per line, separated by commas`);
  return runs;
}

function sampleText(source: string, target: Target, s: SampleTests): string {
  const rows: [string, number | null, string][] = [
    ["sample_tvd", s.sample_tvd, "TV(sample histogram, p)"],
    ["chi2_p", s.chi2_p, chi2Meaning(s)],
    ["w1", s.w1, "Wasserstein-1 of samples vs p (bins)"],
  ];
  rows.push(...continuousRows(target, s));
  return [
    `samples   ${source}: ${s.n} answers in the support, ${s.unparsed} unparsed`,
    "",
    table(["metric", "value", "meaning"], rows.map(([k, v, m]) => [k, fmt(v), m])),
  ].join("\n");
}

async function readJson(file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = (await readInputFile(file)).toString("utf8");
  } catch (err) {
    if (err instanceof InputError) throw err;
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
export function toRuns(target: Target, ptoken: unknown, samples: string[][] | undefined, normalize: boolean): Run[] {
  const parsed = PtokenFile.safeParse(ptoken);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`--ptoken: ${issue.message} at ${issue.path.length ? `[${issue.path.join("][")}]` : "the top level"}; expected an array of runs, each an array of steps, each an array of ${target.support.length} probabilities`);
  }
  const drawn = samples;
  if (drawn && drawn.length !== parsed.data.length) throw new InputError(`--samples has ${drawn.length} runs but --ptoken has ${parsed.data.length}`);
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
      const q = normalise(row); // the plain sum can overflow ([1e308, 1e308])
      // Free-form numbers count in their bin; other answers outside the support are recorded (sample null, raw), not fatal.
      return sample === undefined ? { t, ptoken: q, leak: 0, sample: null } : answerStep(target, sample, t, q);
    }),
  }));
}
