// `ptalign run STUDY.yaml`: the study matrix, with a dry run, one progress bar and a summary table.
import { SingleBar } from "cli-progress";
import { RunError } from "../errors.ts";
import { join } from "node:path";
import { openStore, shownLocation } from "../store/registry.ts";
import { DB_FILE } from "../store/sqlite.ts";
import { DamagedStoreError, isDamaged } from "../store/access.ts";
import { callsOf, type Cell } from "../study/matrix.ts";
import { loadStudy } from "../study/spec.ts";
import { planOf, runStudy, type CellOutcome } from "../study/run.ts";
import { parseShard, shardText, type Shard } from "../study/shard.ts";
import { abbreviate, fmt, table } from "./common.ts";
import { remoteInput, type RemoteFlags } from "./remoteFlags.ts";
import { takeSignal } from "./interrupt.ts";

export interface StudyFlags extends Partial<RemoteFlags> {
  out: string;
  /** `out` was named on the command line (--store or --out): it wins over the study's `store:` and PTALIGN_STORE. */
  storeGiven?: boolean;
  json?: boolean;
  dryRun?: boolean;
  /** --shard i/n (study/shard.ts). */
  shard?: string;
}

const cellLabel = (c: Cell) => `${abbreviate(c.model.spec, 60)} × ${abbreviate(c.target.label, 60)}`;

export async function studyAction(file: string, flags: StudyFlags): Promise<void> {
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  // openai: models take the command line's remote flags (--base-url, --chat, --scoring, ...), as in a single run.
  const study = await loadStudy(file, { remote: flags.scoring !== undefined ? remoteInput(flags) : undefined });
  if (!flags.storeGiven) flags = { ...flags, out: study.store ?? (process.env.PTALIGN_STORE || flags.out) };
  if (flags.dryRun) {
    const store = await openStore(flags.out);
    try {
      let plan: Awaited<ReturnType<typeof planOf>>;
      try {
        plan = await planOf(study, store, { shard });
      } catch (err) {
        if (isDamaged(err)) throw new DamagedStoreError(join(flags.out, DB_FILE), err);
        throw err;
      }
      if (flags.json) {
        await writeDryRunJson({ study: study.name, ...shardJson(shard) }, plan);
        return;
      }
      process.stdout.write(dryRunText(study.name, plan, shownLocation(flags.out), shard) + "\n");
    } finally {
      await store?.close();
    }
    return;
  }

  const bar = new StudyBar(study.name, Boolean(flags.json));
  let outcomes: CellOutcome[];
  try {
    outcomes = await runStudy(study, flags.out, {
      signal: takeSignal(),
      onPlan: (steps) => bar.start(steps),
      onCellStart: (cell) => bar.current(cellLabel(cell)),
      onWait: (n) => bar.log(`ptalign: ${n} cell${n === 1 ? " is" : "s are"} being measured by another process; waiting for ${n === 1 ? "it" : "them"} (taken as stored when done)\n`),
      onStep: () => bar.tick(),
      onCellEnd: (o) => {
        if (o.status === "failed") bar.log(`ptalign: cell ${o.cell.index} (${cellLabel(o.cell)}, ${o.cell.protocol}, T=${o.cell.temperature}, seed ${o.cell.seed}) failed: ${o.error}\n`);
      },
    }, { shard });
  } finally {
    bar.stop();
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify({ study: study.name, ...shardJson(shard), out: shownLocation(flags.out), cells: outcomes.map(outcomeJson) }) + "\n");
  } else {
    process.stdout.write(outcomesText(outcomes, shownLocation(flags.out), shard) + "\n");
  }
  const failed = outcomes.filter((o) => o.status === "failed");
  if (failed.length > 0) {
    throw new RunError(`${failed.length} of ${outcomes.length} cells failed (cell${failed.length > 1 ? "s" : ""} ${failed.map((o) => o.cell.index).join(", ")}); the others are stored in ${shownLocation(flags.out)} — fix the cause and run the study again to finish it`);
  }
}

/** The shard, in the --json outputs, when one was given (a key added only then). */
const shardJson = (shard: Shard | undefined) => (shard ? { shard: shardText(shard) } : {});

function cellJson(c: Cell) {
  return { cell: c.index, hash: c.hash, model: c.model.spec, target: c.target.label, protocol: c.protocol, temperature: c.temperature, seed: c.seed, steps: c.steps, runs: c.runs };
}

function outcomeJson(o: CellOutcome) {
  return { ...cellJson(o.cell), id: o.id, status: o.status, ...(o.error ? { error: o.error } : {}), ...(o.result ? { metrics: o.result.metrics, verdict: o.result.verdict } : {}) };
}

/** The prompt and sampler columns, shown when the study varies them (its prompts / samplers axes). */
function axes(cells: readonly Cell[]): { head: string[]; of: (c: Cell) => string[] } {
  const prompts = new Set(cells.map((c) => c.prompt_name)).size > 1;
  const samplers = cells.some((c) => c.sampler_name !== "none");
  return {
    head: [...(prompts ? ["prompt"] : []), ...(samplers ? ["sampler"] : [])],
    of: (c) => [...(prompts ? [abbreviate(c.prompt_name, 30)] : []), ...(samplers ? [abbreviate(c.sampler_name, 40)] : [])],
  };
}

function dryRunText(name: string, plan: Awaited<ReturnType<typeof planOf>>, out: string, shard?: Shard): string {
  const ax = axes(plan.map((p) => p.cell));
  const rows = plan.map((p) => [
    String(p.cell.index),
    abbreviate(p.cell.model.spec, 60),
    abbreviate(p.cell.target.label, 60),
    p.cell.protocol,
    String(p.cell.temperature),
    ...ax.of(p.cell),
    String(p.cell.seed),
    `${p.cell.runs}×${p.cell.steps}`,
    String(callsOf(p.cell)),
    p.state === "partial" ? `partial (${p.keptRuns}/${p.cell.runs} runs)` : p.state,
  ]);
  const total = plan.reduce((n, p) => n + callsOf(p.cell), 0);
  const left = plan.reduce((n, p) => n + (p.state === "done" ? 0 : (p.cell.runs - p.keptRuns) * p.cell.steps), 0);
  const hasBatch = plan.some((p) => p.cell.protocol === "batch");
  return [
    `study ${abbreviate(name)}: ${plan.length} cells${shard ? ` (shard ${shardText(shard)})` : ""}`,
    "",
    table(["#", "model", "target", "protocol", "T", ...ax.head, "seed", "runs×steps", "calls", "in store"], rows),
    "",
    `${total} model calls in all (one P_token read per step${hasBatch ? "; the batch protocol also generates its answers' tokens" : ""}); ${left} still to make with --out ${out}`,
  ].join("\n");
}

function outcomesText(outcomes: CellOutcome[], out: string, shard?: Shard): string {
  const ax = axes(outcomes.map((o) => o.cell));
  const rows = outcomes.map((o) => {
    const m = o.result?.metrics;
    const v = o.result?.verdict;
    return [String(o.cell.index), abbreviate(o.cell.model.spec, 60), abbreviate(o.cell.target.label, 60), o.cell.protocol, String(o.cell.temperature), ...ax.of(o.cell), String(o.cell.seed), o.status, fmt(m?.atvd), fmt(m?.volatility), fmt(m?.concentration), v?.type ?? "—"];
  });
  const n = (s: string) => outcomes.filter((o) => o.status === s).length;
  return [
    table(["#", "model", "target", "protocol", "T", ...ax.head, "seed", "status", "atvd", "volatility", "concentration", "verdict"], rows),
    "",
    `${n("done")} measured, ${n("skipped")} already stored, ${n("failed")} failed · results in ${out} (${shard ? `shard ${shardText(shard)}: join the shards' directories with ptalign merge DIR… --out DIR` : `ptalign report ${out} --out report.html`})`,
  ].join("\n");
}

/** One bar for the whole study on stderr (ETA, current model × target); silent when not a TTY, under CI or with --json. */
class StudyBar {
  private bar: SingleBar | undefined;
  private readonly enabled: boolean;
  private label = "";

  private readonly name: string;

  constructor(name: string, json: boolean) {
    this.name = abbreviate(name, 40);
    this.enabled = Boolean(process.stderr.isTTY) && !process.env.CI && !json;
  }

  start(total: number): void {
    if (!this.enabled || total === 0) return;
    this.bar = new SingleBar({ format: `${this.name} [{bar}] {value}/{total} steps | ETA {eta_formatted} | {cell}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 });
    this.bar.start(total, 0, { cell: "" });
  }

  current(label: string): void {
    this.label = label;
    this.bar?.update({ cell: label.length > 60 ? `${label.slice(0, 57)}...` : label });
  }

  tick(): void {
    this.bar?.increment(1, { cell: this.label.length > 60 ? `${this.label.slice(0, 57)}...` : this.label });
  }

  log(line: string): void {
    if (this.bar) {
      this.bar.stop();
      process.stderr.write(line);
      const bar = this.bar;
      const value = (bar as unknown as { value: number }).value;
      const total = bar.getTotal();
      bar.start(total, value, { cell: this.label });
    } else process.stderr.write(line);
  }

  stop(): void {
    this.bar?.stop();
  }
}

/**
 * The dry run's JSON, `{study, shard?, cells: [...], calls}`, written in pieces: a 360,000-cell study is ~90 MB of
 * JSON, which as one string cost seconds of garbage collection and its whole size in memory.
 */
async function writeDryRunJson(head: Record<string, unknown>, plan: Awaited<ReturnType<typeof planOf>>): Promise<void> {
  const write = async (text: string) => {
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  };
  const opening = JSON.stringify(head);
  let piece = `${opening.slice(0, -1)}${opening === "{}" ? "" : ","}"cells":[`;
  let calls = 0;
  for (const [i, p] of plan.entries()) {
    piece += (i === 0 ? "" : ",") + JSON.stringify({ ...cellJson(p.cell), calls: callsOf(p.cell), stored: p.state, kept_runs: p.keptRuns });
    if (p.state !== "done") calls += (p.cell.runs - p.keptRuns) * p.cell.steps;
    if (piece.length > 1 << 20) {
      await write(piece);
      piece = "";
    }
  }
  await write(`${piece}],"calls":${calls}}\n`);
}
