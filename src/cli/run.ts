import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { isSimModel, openModel, closeModel } from "../backends/index.ts";
import { describeDist, promptWords } from "../distributions/index.ts";
import { addTargetOptions, loadTarget, peerTestsInput, type TargetFlags } from "./targetFlags.ts";
import { InputError, RunError } from "../errors.ts";
import { loadTemplate, renderPrompt } from "../protocols/index.ts";
import { measurementKey, measureRecorded, StepsKept } from "../record.ts";
import { takeSignal } from "./interrupt.ts";
import { DEFAULT_RESULTS_DIR, newRunId } from "../store/results.ts";
import { studyAction } from "./study.ts";
import { summaryText } from "./summary.ts";
import type { ProtocolName, Result } from "../types.ts";
import { Progress, realNumber, wholeNumber } from "./common.ts";
import type { SamplerOrder } from "../scoring/index.ts";
import { addRemoteOptions, remoteInput, type RemoteFlags } from "./remoteFlags.ts";
import { addEngineOptions, engineInput, type EngineFlags } from "./engineFlags.ts";
import { buildConfig, modelOptionsOf, recordSettings, type ConfigIssue } from "../config/build.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { PROTOCOLS, KV_TYPES, type MeasurementConfig } from "../config/schema.ts";
import { SAMPLER_ORDERS } from "../scoring/sampler.ts";

export interface RunFlags extends RemoteFlags, EngineFlags, TargetFlags {
  model?: string;
  target?: string;
  dryRun?: boolean;
  shard?: string;
  protocol: ProtocolName;
  steps: number;
  runs: number;
  temperature: number;
  seed: number;
  out: string;
  store?: string;
  json?: boolean;
  normalize?: boolean;
  threads: number;
  contextSize?: number;
  raw?: boolean;
  kv: "f32" | "f16";
  prune: number;
  promptFile?: string;
  showPrompt?: boolean;
  save: boolean;
  logitBias?: string;
  maxFailures: number;
  maxAnswerTokens: number;
  topK?: number;
  topP?: number;
  minP?: number;
  samplerOrder: SamplerOrder;
}

export function runCommand(): Command {
  return addRemoteOptions(addEngineOptions(addTargetOptions(
    new Command("run")
    .description("measure P_token against P_task step by step for one model and one target")
    .argument("[study]", "a study file (YAML, docs/study.md): runs its matrix of models × targets × protocols × temperatures × seeds")
    .option("-m, --model <spec>", "model: PATH.gguf, gguf:PATH, hf:USER/REPO[:QUANT], sim:d|e|collapsed[?name=value]")
    .option("-t, --target <dist>", "P_task: {1:0.1,2:0.7,...}, uniform(1,10), binomial(10,0.5), poisson(5,max=15), geometric(0.3,max=10), zipf(1.1,20), bernoulli(0.7), extreme, flat; continuous: normal(0,1), cuniform(0,1), beta(2,2), exponential(1), cauchy(0,1), student_t(3), chi2(5), f(5,10), gamma(2,2), weibull(1.5,1), laplace(0,1), logistic(0,1); baddice:NAME")
    .addOption(new Option("-p, --protocol <name>", "how samples are asked for").choices(PROTOCOLS).default(DEFAULTS.protocol))
    .option("-n, --steps <n>", "samples per run", wholeNumber("--steps", 1), DEFAULTS.steps)
    .option("-r, --runs <n>", "independent runs (for confidence intervals)", wholeNumber("--runs", 1), DEFAULTS.runs)
    .option("--temperature <t>", "sampling temperature (0 = greedy)", realNumber("--temperature", 0, 100), DEFAULTS.temperature)
    .option("--seed <s>", "seed of the first run (run r uses seed + r)", wholeNumber("--seed", 0), DEFAULTS.seed)
    .option("-o, --out <dir>", "results directory the run is added to", DEFAULT_RESULTS_DIR)
    .option("--store <location>", "where results are recorded: a results directory or postgresql://USER@HOST:PORT/DB (password from PGPASSWORD or ~/.pgpass); default: --out, else a study's store:, else PTALIGN_STORE, else ptalign-results")
    .option("--no-save", "do not write the run to the results directory")
    .option("--json", "print the result JSON on stdout")
    .option("--normalize", "rescale target probabilities that do not sum to 1")
    .option("--threads <n>", "CPU threads for the embedded engine", wholeNumber("--threads", 1), DEFAULTS.engine.threads)
    .option("--context-size <n>", "context window in tokens (default: min(4096, the model's))", wholeNumber("--context-size", 16))
    .option("--raw", "do not apply the model's chat template")
    .addOption(new Option("--kv <type>", "KV cache precision (f32 keeps P_token exact to ~1e-7)").choices(KV_TYPES).default(DEFAULTS.engine.kv))
    .option("--prune <p>", "tokenisation paths below this probability are not expanded (their mass is reported as unknown)", realNumber("--prune", 0, 1), DEFAULTS.prune)
    .option("--prompt-file <file>", "prompt template ({{distribution}}, {{support}}, {{steps}}, {{example}}; a line ---prefill--- starts the model's answer)")
    .option("--logit-bias <file>", "JSON {answer: bias} (e.g. from ptalign correct): added to each answer's first distinguishing token's logit (sim: to log q)")
    .option("--top-k <k>", "deployed sampler: keep the k most probable tokens (0 = off)", wholeNumber("--top-k", 0))
    .option("--top-p <p>", "deployed sampler: keep the most probable tokens up to mass p (1 = off)", realNumber("--top-p", 0, 1))
    .option("--min-p <p>", "deployed sampler: keep tokens with probability ≥ p × the largest (0 = off)", realNumber("--min-p", 0, 1))
    .addOption(new Option("--sampler-order <engine>", "order of temperature, top-k, top-p, min-p: the deploying engine's (docs/scoring.md)").choices(SAMPLER_ORDERS).default(DEFAULTS.samplerOrder))
    .option("--max-answer-tokens <n>", "batch: tokens an answer may take before it counts as unparseable", wholeNumber("--max-answer-tokens", 1), DEFAULTS.maxAnswerTokens)
    .option("--max-failures <n>", "batch: consecutive unparseable answers after which a run stops (its steps are kept)", wholeNumber("--max-failures", 1), DEFAULTS.maxFailures)
    .option("--show-prompt", "print the prompt as the model sees it, then stop")
    .option("--dry-run", "with a study file: print the matrix and the number of model calls, run nothing")
    .option("--shard <i/n>", "with a study file: measure only part i of n (0 ≤ i < n; cells dealt out by hash) — one per job of a Slurm array or Kubernetes indexed Job; ptalign merge joins the parts (docs/scale.md)")
    .addHelpText(
      "after",
      `
Verdicts: D = deterministic (each step bets on one answer; the sequence follows P_task), E = exploratory (every step
spreads like P_task), collapsed, mixed, off-format, uncertain (docs/classification.md; D and E are arXiv 2601.17865's).

Examples:
  $ ptalign run --model ./qwen2.5-7b-instruct-q4_k_m.gguf --target extreme --steps 50 --runs 5 --json
  $ ptalign run --model sim:d --target "{1:0.1,2:0.7,3:0.1,4:0.1}"
  $ ptalign run --model hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M --target "uniform(1,6)" --protocol independent`,
    )
    .action(async (study: string | undefined, flags: RunFlags, command: Command) => {
      // The store named on the command line (--store, else an explicit --out); else the study's, PTALIGN_STORE, the default.
      const given = flags.store ?? (command.getOptionValueSource("out") === "cli" ? flags.out : undefined);
      if (study !== undefined) {
        if (flags.model !== undefined || flags.target !== undefined) throw new InputError("give either a study file or --model and --target, not both");
        await studyAction(study, { ...flags, out: given ?? flags.out, storeGiven: given !== undefined });
        return;
      }
      flags.out = given ?? (process.env.PTALIGN_STORE || flags.out);
      if (flags.dryRun) throw new InputError("--dry-run needs a study file: ptalign run study.yaml --dry-run");
      if (flags.shard !== undefined) throw new InputError("--shard needs a study file: ptalign run study.yaml --shard i/n");
      if (flags.model === undefined || (flags.target === undefined && flags.targetFile === undefined)) {
        throw new InputError(`run needs ${flags.model === undefined ? "--model" : "--target"} (ptalign run --model SPEC --target DIST), or a study file (ptalign run study.yaml)`);
      }
      await runAction(flags as RunFlags & { model: string });
    }),
  )));
}

async function runAction(flags: RunFlags & { model: string }): Promise<void> {
  const target = await loadTarget(flags, "run needs --target DIST or --target-file FILE");
  const template = await loadTemplate(flags.promptFile);
  let config = configOfFlags(flags, template);
  if (flags.logitBias) config = { ...config, logitBias: await loadBias(flags.logitBias, target.support) };
  const settings = recordSettings(config);
  const model = await openModel(flags.model, modelOptionsOf(config, config.runs));
  const progress = new Progress(flags.steps * flags.runs, flags.model, Boolean(flags.json));
  const id = newRunId(flags.model);
  let result: Result;
  let file: string | undefined;
  let resumed: { runs: number } | undefined;
  try {
    if (flags.showPrompt) {
      const prompt = renderPrompt(template, { distribution: describeDist(target), support: target.support, ...promptWords(target), steps: flags.steps });
      if (!isSimModel(model) && model.kind === "tokens") await model.prepare?.(prompt);
      process.stdout.write(isSimModel(model) ? `${prompt.user}\n${prompt.prefill}\n` : `${model.renderPrompt(prompt)}\n`);
      return;
    }
    // Every step goes to the store as it is computed; a failure part way keeps them (StepsKept says where).
    // Ctrl-C stops it at the next step, recorded as interrupted; the same command resumes it (record.ts).
    const signal = takeSignal();
    ({ result, file, resumed } = await measureRecorded({ model: flags.model, target, protocol: flags.protocol, settings, template, onStep: () => progress.tick() }, model, { id, out: flags.save ? flags.out : undefined, key: measurementKey(flags.model, target, flags.protocol, config), signal }));
  } catch (err) {
    progress.stop();
    if (err instanceof StepsKept) {
      const Kind = err.cause instanceof InputError ? InputError : RunError;
      throw new Kind(err.message);
    }
    throw err;
  } finally {
    progress.stop();
    await closeModel(model);
  }
  if (resumed) process.stderr.write(`ptalign: resumed the interrupted measurement ${result.id} (${resumed.runs} of ${flags.runs} runs kept from before, the others measured again from their start)\n`);
  if (flags.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(summaryText(result, file) + "\n");
}

/**
 * The measurement's configuration from run's flags: commander has checked each flag's syntax and filled its default
 * (DEFAULTS, shown in --help); the schema checks the rules across flags. The logit-bias file is read by the caller.
 */
export function configOfFlags(flags: RunFlags, template: string, env?: NodeJS.ProcessEnv): MeasurementConfig {
  return buildConfig(
    {
      protocol: flags.protocol,
      steps: flags.steps,
      runs: flags.runs,
      temperature: flags.temperature,
      seed: flags.seed,
      prune: flags.prune,
      sampler: { topK: flags.topK, topP: flags.topP, minP: flags.minP, order: flags.samplerOrder },
      batch: { maxAnswerTokens: flags.maxAnswerTokens, maxFailures: flags.maxFailures },
      engine: { threads: flags.threads, contextSize: flags.contextSize, kv: flags.kv, raw: flags.raw, ...engineInput(flags) },
      remote: remoteInput(flags),
      template,
      peerTests: peerTestsInput(flags),
    },
    { env, describe: flagIssue },
  );
}

/** A broken rule in the flags' words. */
function flagIssue(issue: ConfigIssue): string | undefined {
  const [group, field] = issue.path.map(String);
  if (group === "sampler" && field === "topP" && issue.code === "too_small") return "--top-p 0 keeps no token; use a value in (0, 1] (1 = off)";
  return undefined;
}

/** A logit-bias file: a JSON object {answer: bias} (or {"bias": {...}} as `ptalign correct` writes it); answers must be in the target's support. */
export async function loadBias(file: string, support: readonly string[]): Promise<Record<string, number>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new InputError(`cannot read the logit-bias file ${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const obj = data && typeof data === "object" && "bias" in data ? (data as { bias: unknown }).bias : data;
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new InputError(`logit-bias file ${file} must hold a JSON object {"answer": bias, ...}`);
  const out: Record<string, number> = {};
  for (const [answer, value] of Object.entries(obj as Record<string, unknown>)) {
    if (!support.includes(answer)) throw new InputError(`logit-bias file ${file}: "${answer}" is not an answer of the target (answers: ${support.join(", ")})`);
    if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > 100) throw new InputError(`logit-bias file ${file}: bias of "${answer}" must be a number from -100 to 100`);
    out[answer] = value;
  }
  return out;
}
