// `ptalign probe`: a measurement like `run`, probed inside the model at every step (docs/probe.md).
import { Command, Option } from "commander";
import { closeModel, openModel, parseModelSpec, type Model } from "../backends/index.ts";
import { modelOptionsOf, recordSettings } from "../config/build.ts";
import { DEFAULTS } from "../config/defaults.ts";
import { KV_TYPES, PROTOCOLS } from "../config/schema.ts";
import { InputError, RunError } from "../errors.ts";
import { probeBackend, probeMeasure } from "../probe/measure.ts";
import { loadTemplate } from "../protocols/index.ts";
import { StepsKept } from "../record.ts";
import { DEFAULT_RESULTS_DIR, newRunId } from "../store/results.ts";
import { Progress, realNumber, wholeNumber } from "./common.ts";
import { takeSignal } from "./interrupt.ts";
import { addEngineOptions } from "./engineFlags.ts";
import { configOfFlags, loadBias, type RunFlags } from "./run.ts";
import { summaryText } from "./summary.ts";
import { counterfactualText, probeText } from "./probeSummary.ts";
import { addRemoteOptions } from "./remoteFlags.ts";
import { compareHistory } from "../analysis/counterfactual.ts";
import { measureCounterfactualRecorded } from "../probe/counterfactualRun.ts";
import { addTargetOptions, loadTarget } from "./targetFlags.ts";

export interface ProbeFlags extends RunFlags {
  /** Logit lens (default on; --no-lens). */
  lens: boolean;
  /** Attention to history (default on; --no-attention). */
  attention: boolean;
  /** Attention per head as well as the mean over heads. */
  heads?: boolean;
  /** Counterfactual histories at every step (any backend that scores exactly). */
  counterfactual?: boolean;
}

/** Backends whose layers the probe can read: the embedded engine. */
const EMBEDDED = new Set(["gguf-file", "gguf", "hf"]);

export function probeCommand(): Command {
  return addRemoteOptions(addEngineOptions(addTargetOptions(
    new Command("probe")
      .description("measure like run, and look inside the model at every step: logit lens per layer, attention to the model's own history")
      .option("-m, --model <spec>", "model: PATH.gguf, gguf:PATH or hf:USER/REPO[:QUANT] (the embedded engine); with --counterfactual also sim:FAMILY and openai:MODEL")
      .option("-t, --target <dist>", "P_task (the grammar of run --target)")
      .addOption(new Option("-p, --protocol <name>", "how samples are asked for").choices(PROTOCOLS.filter((p) => p !== "batch")).default(DEFAULTS.protocol))
      .option("-n, --steps <n>", "samples per run", wholeNumber("--steps", 1), DEFAULTS.steps)
      .option("-r, --runs <n>", "independent runs", wholeNumber("--runs", 1), DEFAULTS.runs)
      .option("--temperature <t>", "sampling temperature (0 = greedy)", realNumber("--temperature", 0, 100), DEFAULTS.temperature)
      .option("--seed <s>", "seed of the first run (run r uses seed + r)", wholeNumber("--seed", 0), DEFAULTS.seed)
      .option("-o, --out <dir>", "results directory the probe is added to", DEFAULT_RESULTS_DIR)
      .option("--no-save", "do not write the probe to the results directory")
      .option("--json", "print the result JSON (with the probe's fields) on stdout")
      .option("--normalize", "rescale target probabilities that do not sum to 1")
      .option("--threads <n>", "CPU threads for the embedded engine", wholeNumber("--threads", 1), DEFAULTS.engine.threads)
      .option("--context-size <n>", "context window in tokens (default: min(4096, the model's))", wholeNumber("--context-size", 16))
      .option("--raw", "do not apply the model's chat template")
      .addOption(new Option("--kv <type>", "KV cache precision").choices(KV_TYPES).default(DEFAULTS.engine.kv))
      .option("--prune <p>", "tokenisation paths below this probability are not expanded", realNumber("--prune", 0, 1), DEFAULTS.prune)
      .option("--prompt-file <file>", "prompt template (the syntax of run --prompt-file)")
      .option("--logit-bias <file>", "JSON {answer: bias}, as for run")
      .option("--no-lens", "skip the logit lens")
      .option("--no-attention", "skip the attention to history")
      .option("--heads", "attention per head as well as the mean over heads")
      .option("--counterfactual", "re-score every step with its history changed (one draw of each answer more or less, shuffled, removed): the change of q_t(x) per extra draw of x; any model that scores exactly (embedded, sim, openai: with exact scoring), where lens and attention need the embedded engine")
      .addHelpText(
        "after",
        `
Examples:
  $ ptalign probe --model ./qwen2.5-0.5b-instruct-f16.gguf --target extreme --steps 20 --runs 2 --json
  $ ptalign probe --model ./model.gguf --target "uniform(1,6)" --heads --out results
  $ ptalign probe --model sim:d-plan --target extreme --steps 30 --runs 5 --counterfactual`,
      )
      .action(async (flags: ProbeFlags) => probeAction(flags)),
  )));
}

async function probeAction(flags: ProbeFlags): Promise<void> {
  if (flags.model === undefined) throw new InputError("probe needs --model (a .gguf path, gguf:PATH or hf:USER/REPO[:QUANT])");
  if (flags.target === undefined && flags.targetFile === undefined) throw new InputError("probe needs --target DIST or --target-file FILE");
  const parsed = parseModelSpec(flags.model);
  // Counterfactuals alone need no look inside: any exact backend, and the embedded engine opened as for run.
  if (flags.counterfactual && (!EMBEDDED.has(parsed.backend.name) || (!flags.lens && !flags.attention))) return counterfactualAction(flags as ProbeFlags & { model: string });
  if (!EMBEDDED.has(parsed.backend.name)) {
    throw new InputError(`probe reads the model's layers, which only the embedded GGUF engine shows; ${flags.model} is a ${parsed.backend.name} model (use a .gguf path, gguf:PATH or hf:USER/REPO[:QUANT])`);
  }
  const target = await loadTarget(flags, "probe needs --target DIST or --target-file FILE");
  const template = await loadTemplate(flags.promptFile);
  // One sequence: the probe reads the steps in order, and llama.cpp's cache cells are then the context's positions.
  let config = configOfFlags({ ...flags, protocol: flags.protocol, parallel: 1, maxAnswerTokens: DEFAULTS.maxAnswerTokens, maxFailures: DEFAULTS.maxFailures, samplerOrder: DEFAULTS.samplerOrder }, template);
  if (flags.logitBias) config = { ...config, logitBias: await loadBias(flags.logitBias, target.support) };
  const settings = { ...recordSettings(config), probe: { lens: flags.lens, attention: flags.attention, heads: Boolean(flags.heads), ...(flags.counterfactual ? { counterfactual: true } : {}) } };
  const model = await openModel(flags.model, { ...modelOptionsOf(config, config.runs), parallel: 1, inspect: true });
  const spec = flags.model;
  const { result, file } = await measured(flags, spec, model, (onStep, record) =>
    probeMeasure(
      { model: spec, target, protocol: flags.protocol, settings, template, onStep },
      probeBackend(model),
      record,
      { lens: flags.lens, attention: flags.attention, heads: Boolean(flags.heads), counterfactual: Boolean(flags.counterfactual) },
    ),
  );
  if (flags.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(`${summaryText(result, file)}\n\n${probeText(result.probe)}\n${result.counterfactual ? `\n${counterfactualText(compareHistory(result.target, result.runs, result.counterfactual), result.counterfactual)}\n` : ""}`);
}

/**
 * --counterfactual on a model without layers to read (sim, an exact remote server): the measurement with its
 * counterfactual histories only; the lens and the attention need the embedded engine, so they are not asked for.
 */
async function counterfactualAction(flags: ProbeFlags & { model: string }): Promise<void> {
  const target = await loadTarget(flags, "probe needs --target DIST or --target-file FILE");
  const template = await loadTemplate(flags.promptFile);
  let config = configOfFlags({ ...flags, maxAnswerTokens: DEFAULTS.maxAnswerTokens, maxFailures: DEFAULTS.maxFailures, samplerOrder: DEFAULTS.samplerOrder }, template);
  if (flags.logitBias) config = { ...config, logitBias: await loadBias(flags.logitBias, target.support) };
  const settings = { ...recordSettings(config), probe: { lens: false, attention: false, heads: false, counterfactual: true } };
  const model = await openModel(flags.model, modelOptionsOf(config, config.runs));
  const { result, file } = await measured(flags, flags.model, model, (onStep, record) =>
    measureCounterfactualRecorded({ model: flags.model, target, protocol: flags.protocol, settings, template, onStep }, model, record),
  );
  if (flags.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(`${summaryText(result, file)}\n\n${counterfactualText(compareHistory(result.target, result.runs, result.counterfactual), result.counterfactual)}\n`);
}

/**
 * One probe measurement with its progress bar, closing the model after. Ctrl-C: recorded interrupted with its steps,
 * exit 130 (a probe is not resumed: measure it again); a failure that kept steps is one line of its kind.
 */
async function measured<R>(flags: ProbeFlags, spec: string, model: Model, measure: (onStep: () => void, record: { id: string; out: string | undefined; signal?: AbortSignal }) => Promise<{ result: R; file?: string }>): Promise<{ result: R; file?: string }> {
  const progress = new Progress(flags.steps * flags.runs, spec, Boolean(flags.json));
  const signal = takeSignal();
  try {
    return await measure(() => progress.tick(), { id: newRunId(spec), out: flags.save ? flags.out : undefined, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof StepsKept) throw new (err.cause instanceof InputError ? InputError : RunError)(err.message);
    throw err;
  } finally {
    progress.stop();
    await closeModel(model);
  }
}
