// defineChoiceTask: a Task (src/tasks/task.ts) from a ChoiceTaskSpec. The core reads the data through the task's
// readers (the generic JSONL reader appended), selects contexts (--limit, --sample), measures each context over the
// protocols (score.ts), resumes from the checkpoint, aggregates with bootstrap intervals, and flags what it could
// not score. The task adds its readers, prompt, per-context and aggregate values, table and plots.

import { performance } from "node:perf_hooks";
import { closeModel, isSimModel, openModel, type Model } from "../../backends/index.ts";
import { InputError, interruption } from "../../errors.ts";
import type { MeasureEnv, Task, TaskData, TaskEstimate, TaskMetric, TaskOptionValues, TaskTable } from "../task.ts";
import { modelLabel } from "../task.ts";
import { OFF_FORMAT_LEAK } from "../warnings.ts";
import { aggregateRecords, measured } from "./aggregate.ts";
import { checkpointKey, isContextRecord, openCheckpoint } from "./checkpoint.ts";
import { exists } from "./input.ts";
import { jsonlReader } from "./jsonl.ts";
import { choiceOptions, choiceSettings } from "./options.ts";
import { choicePrompt } from "./prompt.ts";
import { measureContext, unitsPerContext } from "./score.ts";
import { selectContexts } from "./select.ts";
import type { ChoiceAggregate, ChoiceData, ChoiceReader, ChoiceResult, ChoiceSettings, ChoiceTaskSpec, ContextRecord, FlaggedContext } from "./types.ts";

export interface ChoiceTaskSettings {
  core: ChoiceSettings;
  /** The task's own option values (ChoiceTaskSpec.extraSettings). */
  extra: Record<string, unknown>;
}

/** The core's metrics, documented for every choice task (docs/tasks.md, "Choice tasks"). */
export const CHOICE_METRICS: readonly TaskMetric[] = [
  { name: "metrics.tv", meaning: "mean over contexts of TV(P_token, P_task) at the first draw, with a 95% bootstrap interval over contexts", better: "lower" },
  { name: "metrics.kl", meaning: "mean over contexts of KL(P_task ‖ P_token) in nats, P_token clipped at 1e-15", better: "lower" },
  { name: "metrics.atvd", meaning: "mean over contexts of the loop's atvd over every draw", better: "lower" },
  { name: "metrics.volatility", meaning: "mean over contexts of the loop's volatility (sequential draws)" },
  { name: "metrics.concentration", meaning: "mean over contexts of the loop's concentration" },
  { name: "metrics.leak", meaning: "mean probability outside the option labels", better: "lower" },
  { name: "metrics.order_tv", meaning: "mean TV between P_token and P_token with the options re-ordered (mapped back)", better: "lower" },
  { name: "metrics.verdicts", meaning: "share of contexts per D/E verdict of their draws (uncertain when the intervals allow another)" },
  { name: "metrics.decisions", meaning: "share of contexts per type at the point estimates (the table's E and D columns)" },
];

/** The readers a task reads with: its own, then the generic JSONL. */
export const readersOf = (spec: Pick<ChoiceTaskSpec, "readers">): ChoiceReader[] => [...spec.readers.filter((r) => r.name !== "jsonl"), jsonlReader];

/** Reads --data with the reader --format names (auto: the first whose detect accepts it) and selects the contexts. */
export async function loadChoiceData(readers: readonly ChoiceReader[], s: ChoiceSettings): Promise<ChoiceData> {
  if (!(await exists(s.data))) throw new InputError(`--data ${s.data}: no such file or folder`);
  let reader: ChoiceReader | undefined;
  if (s.format === "auto") {
    for (const r of readers) if (await r.detect(s.data)) { reader = r; break; }
  } else reader = readers.find((r) => r.name === s.format);
  if (!reader) throw new InputError(`--format ${s.format}: unknown layout; use ${readers.map((r) => r.name).join(", ")} or auto`);
  const read = await reader.read(s.data);
  if (read.contexts.length === 0) throw new InputError(`${read.files.join(", ")}: no contexts in the ${reader.name} layout; check --data and --format`);
  const contexts = selectContexts(read.contexts, s);
  return { ...read, total: read.contexts.length, contexts };
}

/** The default table: one row per model (and per group when the data has groups). */
export function choiceTable(results: readonly ChoiceResult[]): TaskTable {
  const rows: (string | number | null)[][] = [];
  const row = (model: string, group: string, a: ChoiceAggregate) => [modelLabel(model), group, a.contexts, a.tv.mean, a.kl.mean, a.atvd.mean, a.volatility.mean, a.order_tv.mean, a.decisions?.E ?? 0, a.decisions?.D ?? 0, a.verdicts.uncertain ?? 0, a.leak.mean];
  for (const r of results) {
    rows.push(row(r.model, "all", r.metrics));
    for (const [g, a] of Object.entries(r.groups ?? {})) rows.push(row(r.model, g, a));
  }
  return { header: ["model", "group", "contexts", "tv", "kl", "atvd", "volatility", "order_tv", "E", "D", "uncertain", "leak"], rows };
}

function flagsOf(records: readonly ContextRecord[], threshold: number): FlaggedContext[] {
  return records.flatMap((r) =>
    r.unscored !== undefined
      ? [{ id: r.id, source: r.source, reason: `unscored: ${r.unscored}` }]
      : r.off_format
        ? [{ id: r.id, source: r.source, reason: `off-format: mean leak ${r.metrics!.leak.toFixed(4)} > ${threshold}` }]
        : [],
  );
}

/** Measures every context for one model (resuming from the checkpoint) and aggregates. */
export async function measureChoice(spec: ChoiceTaskSpec, modelSpec: string, data: ChoiceData, s: ChoiceTaskSettings, env: MeasureEnv & { model?: Model }): Promise<ChoiceResult> {
  const core = s.core;
  const model = env.model ?? (await openModel(modelSpec, env.backend));
  try {
    const name = isSimModel(model) ? model.spec : modelSpec;
    const { out: _out, data: _data, ...numbers } = core;
    const key = checkpointKey({ task: spec.name, model: name, settings: numbers, extra: s.extra, contexts: data.contexts });
    const checkpoint = await openCheckpoint(core.out, spec.name, key, isContextRecord);
    const prompt = spec.prompt ?? choicePrompt;
    const per = unitsPerContext(core);
    const records: ContextRecord[] = [];
    let resumed = 0;
    for (const ctx of data.contexts) {
      // Ctrl-C: stop between contexts; the checkpoint keeps every finished one for the next invocation.
      if (env.signal?.aborted) break;
      const earlier = checkpoint.done.get(ctx.id);
      if (earlier) {
        records.push(earlier);
        resumed++;
        for (let i = 0; i < per; i++) env.onUnit?.();
        continue;
      }
      const record = await measureContext(model, ctx, core, { prompt, offFormatLeak: OFF_FORMAT_LEAK, ...(env.onUnit ? { onUnit: env.onUnit } : {}) });
      if (record.ptoken !== null && spec.contextExtra) record.extra = spec.contextExtra(ctx, record);
      await checkpoint.add(record);
      records.push(record);
    }
    const seedKey = `${core.seed}/${spec.name}`;
    const aggregate = (rs: readonly ContextRecord[], g: string): ChoiceAggregate => {
      const a = aggregateRecords(rs, core.bootstrap, `${seedKey}/${g}`);
      const extra = spec.aggregateExtra?.(measured(rs), core, g);
      return extra ? { ...a, extra } : a;
    };
    const groupNames = [...new Set(records.flatMap((r) => (r.group ? [r.group] : [])))];
    const groups = groupNames.length ? Object.fromEntries(groupNames.map((g) => [g, aggregate(records.filter((r) => r.group === g), g)])) : undefined;
    const flagged = [...data.flagged, ...flagsOf(records, OFF_FORMAT_LEAK)];
    const offFormat = records.filter((r) => r.off_format).length;
    const unscored = records.filter((r) => r.unscored !== undefined).length;
    const warnings = [
      ...data.notes,
      ...(offFormat ? [`${name}: off-format on ${offFormat} of ${records.length} contexts (mean leak > ${OFF_FORMAT_LEAK}; first: ${records.find((r) => r.off_format)!.source}): flagged and left out of the aggregates; check the prompt (chat template, --raw)`] : []),
      ...(unscored ? [`${name}: ${unscored} of ${records.length} contexts could not be scored (first: ${records.find((r) => r.unscored !== undefined)!.source}: ${records.find((r) => r.unscored !== undefined)!.unscored}): flagged and left out of the aggregates`] : []),
      ...(data.flagged.length ? [`${data.flagged.length} contexts of the data were left out by the reader (first: ${data.flagged[0]!.source}: ${data.flagged[0]!.reason})`] : []),
    ];
    const result: ChoiceResult = {
      version: 1,
      task: spec.name,
      model: name,
      settings: { ...numbers, data: core.data, ...s.extra },
      data: { format: data.format, files: data.files, total: data.total, contexts: data.contexts.length },
      metrics: aggregate(records, "all"),
      ...(groups ? { groups } : {}),
      contexts: records,
      flagged,
      ...(resumed ? { resumed } : {}),
      ...(warnings.length ? { warnings } : {}),
      ...(env.signal?.aborted ? { interrupted: { signal: interruption(env.signal).signal, done: records.length, total: data.contexts.length, unit: "contexts" } } : {}),
    };
    // An interrupted result keeps its checkpoint: the same command resumes from it.
    if (!result.interrupted) pendingCheckpoints.set(result, checkpoint.finish);
    return result;
  } finally {
    if (!env.model) await closeModel(model);
  }
}

/** Checkpoints to remove once their result is stored (Task.stored); a result never stored keeps its checkpoint. */
const pendingCheckpoints = new WeakMap<ChoiceResult, () => Promise<void>>();

/** The cost of a measurement: contexts, scorings, and (token models) the time of one context measured now. */
export async function estimateChoice(spec: ChoiceTaskSpec, models: readonly string[], data: ChoiceData, s: ChoiceTaskSettings, env: MeasureEnv): Promise<TaskEstimate> {
  const per = unitsPerContext(s.core);
  const scorings = data.contexts.length * per;
  const rows: { model: string; seconds_per_context: number | null; seconds: number | null }[] = [];
  for (const m of models) {
    const model = await openModel(m, env.backend);
    try {
      if (isSimModel(model)) {
        rows.push({ model: model.spec, seconds_per_context: 0, seconds: 0 });
        continue;
      }
      const t0 = performance.now();
      await measureContext(model, data.contexts[0]!, { ...s.core, bootstrap: 0 }, { prompt: spec.prompt ?? choicePrompt, offFormatLeak: OFF_FORMAT_LEAK });
      const sec = (performance.now() - t0) / 1000;
      rows.push({ model: m, seconds_per_context: sec, seconds: sec * data.contexts.length });
    } finally {
      await closeModel(model);
    }
  }
  const json = { task: spec.name, format: data.format, files: data.files, contexts: data.contexts.length, total: data.total, scorings_per_context: per, scorings, models: rows };
  const text = [
    `${spec.name}: ${data.contexts.length} of ${data.total} contexts (${data.format}: ${data.files.join(", ")}), ${per} scorings each (${s.core.runs} run${s.core.runs === 1 ? "" : "s"} × ${s.core.draws} draw${s.core.draws === 1 ? "" : "s"} + ${s.core.permutations} permutation${s.core.permutations === 1 ? "" : "s"}) = ${scorings} per model`,
    { header: ["model", "s/context", "estimate (s)"], rows: rows.map((r) => [modelLabel(r.model), r.seconds_per_context, r.seconds]) },
    "estimate: one context measured now, times the number of contexts (the first context's prompt length stands for all)",
  ];
  return { json, text };
}

/** The Task of a choice-task spec. */
export function defineChoiceTask(spec: ChoiceTaskSpec): Task<ChoiceTaskSettings, ChoiceData, ChoiceResult> {
  const readers = readersOf(spec);
  return {
    name: spec.name,
    description: spec.description,
    examples: spec.examples,
    options: [...choiceOptions(readers, spec.defaults), ...(spec.options ?? [])],
    metrics: [...CHOICE_METRICS, ...spec.metrics],
    settings: (v: TaskOptionValues) => ({ core: choiceSettings(spec.name, v, spec.defaults), extra: spec.extraSettings?.(v) ?? {} }),
    async load(s): Promise<TaskData<ChoiceData>> {
      const data = await loadChoiceData(readers, s.core);
      return { data, contexts: data.contexts.map((c) => ({ id: c.id })), notes: data.notes };
    },
    units: (d, s) => d.data.contexts.length * unitsPerContext(s.core),
    measure: (model, d, s, env) => measureChoice(spec, model, d.data, s, env),
    estimate: (models, d, s, env) => estimateChoice(spec, models, d.data, s, env),
    async stored(result) {
      await pendingCheckpoints.get(result)?.();
    },
    table: (results) => (spec.table ?? choiceTable)(results),
    plots: (results) => spec.plots(results),
    describe: (r) => `${spec.name} · ${r.model} · ${r.data.format}, ${r.data.contexts} of ${r.data.total} contexts${r.groups ? ` (${Object.keys(r.groups).join(", ")})` : ""}`,
  };
}
