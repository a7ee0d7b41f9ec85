// ptalign batch export | import — the requests of an experiment as OpenAI Batch API JSONL (also read by vLLM's
// run-batch), and their answers back into the request cache and the result JSON.
// Batch mode replays the protocol against the cache with no network: every request whose answer is missing is
// collected. The independent protocol with answers of one token needs one round; the sequential protocol needs a
// round per step (a step's request depends on the sample drawn at the step before), and top-k scoring of answers of
// several tokens a round per trie level. `import` says how many requests are still needed, `--next` writes them.
import { Command, Option } from "commander";
import { readFile, writeFile } from "node:fs/promises";
import { closeModel, openModel } from "../backends/index.ts";
import { parseDist } from "../distributions/index.ts";
import { InputError, PendingRequest } from "../errors.ts";
import { loadTemplate } from "../protocols/index.ts";
import { measure } from "../run.ts";
import { defaultCacheDir, RequestCache } from "../store/cache.ts";
import { DEFAULT_RESULTS_DIR, newRunId, saveResult } from "../store/results.ts";
import type { ProtocolName, Result, Run } from "../types.ts";
import { realNumber, wholeNumber } from "./common.ts";
import { addRemoteOptions, remoteOptions, type RemoteFlags } from "./remoteFlags.ts";
import { summaryText } from "./summary.ts";

interface BatchFlags extends RemoteFlags {
  model: string;
  target: string;
  protocol: ProtocolName;
  steps: number;
  runs: number;
  temperature: number;
  seed: number;
  prune: number;
  promptFile?: string;
  out: string;
  save: boolean;
  json?: boolean;
  file?: string;
  next?: string;
}

/** Where a batch's answers are kept: the same default as every base URL, so `ptalign run` can reuse them. */
const DEFAULT_BATCH_URL = "https://api.openai.com/v1";

function experimentOptions(cmd: Command): Command {
  return addRemoteOptions(cmd)
    .requiredOption("-m, --model <spec>", "openai:MODEL")
    .requiredOption("-t, --target <dist>", "P_task (as in ptalign run)")
    .addOption(new Option("-p, --protocol <name>", "independent: one round; sequential: one round per step").choices(["sequential", "independent"]).default("sequential"))
    .option("-n, --steps <n>", "samples per run", wholeNumber("--steps", 1), 50)
    .option("-r, --runs <n>", "independent runs", wholeNumber("--runs", 1), 5)
    .option("--temperature <t>", "1 or 0 (text-level scoring reads log-probabilities at temperature 1)", realNumber("--temperature", 0, 100), 1)
    .option("--seed <s>", "seed of the first run", wholeNumber("--seed", 0), 1)
    .option("--prune <p>", "top-k trie paths below this probability are not expanded", realNumber("--prune", 0, 1), 1e-7)
    .option("--prompt-file <file>", "prompt template (as in ptalign run)");
}

export function batchCommand(): Command {
  const batch = new Command("batch").description("run an experiment through a Batch API (OpenAI, vLLM run-batch): export requests, import answers");
  batch.addCommand(
    experimentOptions(new Command("export"))
      .description("write the requests the experiment still needs as Batch API JSONL")
      .requiredOption("-f, --file <jsonl>", "output file (one request per line: custom_id, method, url, body)")
      .action(async (flags: BatchFlags) => exportAction(flags)),
  );
  batch.addCommand(
    experimentOptions(new Command("import"))
      .description("read a Batch API output file; when every answer is in, write the result JSON like ptalign run")
      .argument("<results>", "the batch's output JSONL")
      .option("--next <jsonl>", "write the requests of the next round here when the experiment needs more")
      .option("-o, --out <dir>", "results directory the run is added to", DEFAULT_RESULTS_DIR)
      .option("--no-save", "do not write the run to the results directory")
      .option("--json", "print the result JSON on stdout")
      .action(async (results: string, flags: BatchFlags) => importAction(results, flags)),
  );
  for (const c of batch.commands) c.exitOverride();
  return batch.exitOverride();
}

type Pending = Map<string, { url: string; body: unknown }>;

/** Replays the experiment against the cache; returns the result when every answer is in, else the requests missing. */
async function replay(flags: BatchFlags): Promise<{ result?: Result; pending: Pending }> {
  if (!flags.model.startsWith("openai:")) throw new InputError(`batch mode is for openai: models (got ${flags.model})`);
  if (flags.cache === false) throw new InputError(`batch mode keeps the answers in the request cache: drop --no-cache`);
  if (flags.scoring === "auto" || flags.scoring === "tokens") throw new InputError(`batch mode needs --scoring echo (vLLM completions) or --scoring top-k: no server is contacted to choose, and the Batch API has no endpoint for llama-server's /completion`);
  const target = parseDist(flags.target);
  const template = await loadTemplate(flags.promptFile);
  const settings = { steps: flags.steps, runs: flags.runs, temperature: flags.temperature, seed: flags.seed, prune: flags.prune };
  const pending: Pending = new Map();
  const remote = { ...remoteOptions(flags), baseUrl: flags.baseUrl?.[0] || process.env.OPENAI_BASE_URL || DEFAULT_BATCH_URL, collect: pending };
  const model = await openModel(flags.model, { remote });
  const runs: Run[] = [];
  try {
    const result = await measure({ model: flags.model, target, protocol: flags.protocol, settings, template, runs }, model);
    return { result, pending };
  } catch (err) {
    if (!(err instanceof PendingRequest)) throw err;
    return { pending };
  } finally {
    await closeModel(model); // waits for every request started, so that all pending ones are collected
  }
}

async function writeJsonl(file: string, pending: Pending): Promise<void> {
  const lines = [...pending].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, { url, body }]) => JSON.stringify({ custom_id: key, method: "POST", url: new URL(url).pathname, body }));
  await writeFile(file, lines.join("\n") + (lines.length ? "\n" : ""));
}

async function exportAction(flags: BatchFlags): Promise<void> {
  const { result, pending } = await replay(flags);
  if (result) {
    process.stderr.write(`every answer of this experiment is already imported: run the same arguments with ptalign batch import (any output file) or ptalign run to get the result\n`);
    await writeJsonl(flags.file!, pending);
    return;
  }
  await writeJsonl(flags.file!, pending);
  process.stderr.write(`wrote ${pending.size} requests to ${flags.file}; submit it (OpenAI Batch API, or vllm run-batch -i ${flags.file} -o out.jsonl), then ptalign batch import out.jsonl with the same arguments\n`);
}

const OutputLine = (line: unknown): { key: string; body?: unknown; error?: string } => {
  const l = line as { custom_id?: unknown; response?: { status_code?: unknown; body?: unknown } | null; error?: unknown };
  const key = typeof l?.custom_id === "string" ? l.custom_id : "";
  if (!/^[0-9a-f]{64}$/.test(key)) return { key: "", error: "custom_id is not one ptalign wrote" };
  if (l.error) return { key, error: typeof l.error === "object" ? JSON.stringify(l.error).slice(0, 120) : String(l.error) };
  if (!l.response || l.response.status_code !== 200 || l.response.body === undefined) return { key, error: `status ${String(l.response?.status_code ?? "missing")}` };
  return { key, body: l.response.body };
};

async function importAction(file: string, flags: BatchFlags): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new InputError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const cache = new RequestCache(flags.cacheDir ?? defaultCacheDir());
  let imported = 0;
  const failed: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw.trim() === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new InputError(`${file} line ${i + 1} is not JSON; pass the batch's output file`);
    }
    const line = OutputLine(json);
    if (line.error !== undefined) {
      failed.push(`line ${i + 1}: ${line.error}`);
      continue;
    }
    await cache.put(line.key, JSON.stringify(line.body));
    imported++;
  }
  const { result, pending } = await replay(flags);
  if (!result) {
    if (flags.next) await writeJsonl(flags.next, pending);
    const failures = failed.length ? `; ${failed.length} lines had no answer (${failed[0]}), their requests are exported again` : "";
    process.stderr.write(`imported ${imported} answers${failures}; ${pending.size} requests are still needed (${flags.protocol === "sequential" ? "the sequential protocol needs a round per step" : "answers of several tokens need a round per token"}): ${flags.next ? `written to ${flags.next}` : "run ptalign batch export again"}\n`);
    return;
  }
  result.id = newRunId(flags.model);
  const saved = flags.save ? await saveResult(flags.out, result) : undefined;
  if (flags.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(summaryText(result, saved) + "\n");
}
