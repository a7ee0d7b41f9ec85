// The choice-task core's types: a data set of contexts, each with labelled options and a target distribution
// (P_task), what one context's measurement records, and how a task built on the core declares its readers, its
// own metrics and its plots. README.md in this folder says how a task plugs in; docs/tasks.md has the formulas.
//
// Stability: these shapes are an interface other tasks build on (decide, search). Change them additively only.

import type { PromptParts } from "../../backends/types.ts";
import type { Verdict, VerdictType } from "../../types.ts";
import type { TaskResult } from "../../types/task.ts";
import type { TaskMetric, TaskOption, TaskOptionValues, TaskPlot, TaskTable } from "../task.ts";

/** One option of a context: the label the model answers with and the text shown beside it. */
export interface ChoiceOption {
  /** What the model writes to choose it ("A", "B", …). Unique within the context; scored exactly, every tokenisation. */
  label: string;
  /** What is shown after the label ("a 95% chance of $26, else −$1"); "" when the label says it all. */
  text: string;
  /** A stable name of the option whatever its position (permutations move options, not names): "B", "entailment", "hyp2". */
  key: string;
}

/** One context: what the model sees, its options, and P_task over them. */
export interface ChoiceContext {
  /** Unique within the data set. */
  id: string;
  /** The text shown before the options (a gamble pair, a premise and hypothesis, a question). */
  context: string;
  options: ChoiceOption[];
  /** P_task over `options`, same order; finite, ≥ 0, sums to 1 (validated by the reader, naming file and line). */
  target: number[];
  /** Counts the target came from (annotators, participants), when the data gives them. */
  counts?: number[];
  /** Aggregation group kept apart in the result (choices13k: "feedback" / "no-feedback" / "ambiguous"). */
  group?: string;
  /** "FILE:LINE" of the context in the input, for messages. */
  source: string;
  /** What the instruction line says to answer with (default: "Answer with the letter of one option."). */
  instruction?: string;
  /** Task-specific fields carried into the context's record (bRate, majority label, …). JSON values only. */
  meta?: Record<string, unknown>;
}

/** A context the reader or the model could not score as given: flagged in the result, never silently scored. */
export interface FlaggedContext {
  id: string;
  source: string;
  reason: string;
}

/** A loaded data set: its contexts after --limit / --sample, and what the reader noticed. */
export interface ChoiceData {
  /** The reader that read it ("choices13k", "chaosnli", "jsonl"). */
  format: string;
  /** Files read, in reading order. */
  files: string[];
  contexts: ChoiceContext[];
  /** Contexts in the files before --limit / --sample. */
  total: number;
  /** Contexts the reader left out with their reason (kept in the result's `flagged`). */
  flagged: FlaggedContext[];
  /** Notes printed once (values clipped, rows merged): become warnings of every result. */
  notes: string[];
}

/** Reads one published layout. `detect` is cheap (file names, the first line); `read` validates every line. */
export interface ChoiceReader {
  /** The layout's name, a value of --format ("choices13k"). */
  name: string;
  /** One line for --help and errors: the files it reads. */
  describe: string;
  /** True when PATH (a folder or a file) is in this layout. */
  detect(path: string): Promise<boolean>;
  /** Every context of PATH; a bad line throws InputError "FILE:LINE: what is wrong; what to do". */
  read(path: string): Promise<Omit<ChoiceData, "total">>;
}

/** Settings every choice task has (the flags of choiceOptions, src/tasks/choice/options.ts). */
export interface ChoiceSettings {
  /** --data: a folder or a file. */
  data: string;
  /** --format: a reader's name, or "auto" (the first reader whose detect accepts the path). */
  format: string;
  /** "sequential": the same context asked again with the earlier answers in context (D/E verdict); "independent": afresh each draw. */
  protocol: "sequential" | "independent";
  /** Draws per run (steps of the protocol loop). */
  draws: number;
  runs: number;
  seed: number;
  /** Temperature P_token is read at (0 = the most probable option). */
  temperature: number;
  /** Trie paths below this probability are not followed (their mass is `unknown`). */
  prune: number;
  /** Re-orderings of each context's options (option-order stability); 0 = none. */
  permutations: number;
  /** --limit: the first N contexts of the files. */
  limit?: number;
  /** --sample: N contexts drawn with --seed (after --limit), kept in file order. */
  sample?: number;
  /** Bootstrap resamples of the intervals over contexts and of each context's verdict. */
  bootstrap: number;
  /** Where the checkpoint for resume lives (--out), or undefined with --no-save. */
  out?: string;
}

/** The measurement of one context (run 0 … runs−1, every draw), as recorded in the result. */
export interface ContextRecord {
  id: string;
  group?: string;
  source: string;
  /** Option keys, in the data's order (every vector below is in this order). */
  options: string[];
  target: number[];
  /** P_token at the first draw (the fresh question; no earlier answer in context), mean over runs. Null when unscored. */
  ptoken: number[] | null;
  /** Mass outside the option labels at the first draw, mean over runs. */
  leak: number;
  /** TV(P_token, P_task) at the first draw. */
  tv: number | null;
  /** KL(P_task ‖ P_token) in nats (P_token clipped at 1e-15 and renormalised, as ChaosNLI's evaluation does). */
  kl: number | null;
  /** The protocol loop's metrics over every draw of every run (docs/metrics.md): atvd, volatility, concentration, marginal_tvd, leak. */
  metrics: { atvd: number; volatility: number; concentration: number; marginal_tvd: number; leak: number } | null;
  /**
   * The D/E verdict of this context's draws (docs/classification.md); null when unscored. `decision` is what the rules
   * say at the point estimates (D, E, collapsed, mixed; off-format), before the intervals can make it "uncertain".
   */
  verdict: { type: VerdictType; decision?: VerdictType; ci: Verdict["ci"] } | null;
  /** Mean TV between P_token and P_token of the same context with its options re-ordered (mapped back by key); null without permutations. */
  order_tv: number | null;
  /** The model's answers, per run (option keys), in draw order. */
  draws: string[][];
  /** True when the model mostly wrote something else (mean leak > the off-format threshold): flagged, kept out of the aggregates. */
  off_format?: boolean;
  /** Why the context could not be scored (absent when it was). */
  unscored?: string;
  /** The task's own per-context values (decide: p_b, b_rate, js, …). */
  extra?: Record<string, unknown>;
}

/** A mean over contexts with its 95% percentile bootstrap interval over contexts (null when no context has the value). */
export interface Estimate {
  mean: number | null;
  ci: [number, number] | null;
  /** Contexts the mean is over. */
  n: number;
}

/** What the core aggregates over the scored, on-format contexts of one group (or all). */
export interface ChoiceAggregate {
  contexts: number;
  tv: Estimate;
  kl: Estimate;
  atvd: Estimate;
  volatility: Estimate;
  concentration: Estimate;
  leak: Estimate;
  order_tv: Estimate;
  /** Share of contexts per verdict type (D, E, collapsed, mixed, uncertain). */
  verdicts: Partial<Record<VerdictType, number>>;
  /** Share of contexts per decision at the point estimates (D, E, collapsed, mixed): the type when few draws leave the verdict uncertain. */
  decisions?: Partial<Record<VerdictType, number>>;
  /** The task's own aggregates (decide: mse, correlation, …). */
  extra?: Record<string, unknown>;
}

/** The result of one choice task for one model (DIR/tasks/<id>.json). */
export interface ChoiceResult extends TaskResult {
  version: 1;
  model: string;
  settings: Record<string, unknown>;
  data: { format: string; files: string[]; total: number; contexts: number };
  /** Over every scored, on-format context. */
  metrics: ChoiceAggregate;
  /** Per group (absent when the data has none). */
  groups?: Record<string, ChoiceAggregate>;
  contexts: ContextRecord[];
  /** Off-format, unscored and reader-flagged contexts: id, source, reason. */
  flagged: FlaggedContext[];
  /** Contexts taken from an earlier, interrupted measurement (resume). */
  resumed?: number;
}

/** How a task built on the core declares itself: its readers, prompt, own metrics, table and plots. */
export interface ChoiceTaskSpec {
  name: string;
  description: string;
  examples: readonly string[];
  /** Layouts it reads, tried in order by --format auto; the generic JSONL reader is appended by the core. */
  readers: readonly ChoiceReader[];
  /** Its own options beyond choiceOptions (values reach `extraSettings`). */
  options?: readonly TaskOption[];
  /** Its own metrics (documented; the core's are added). */
  metrics: readonly TaskMetric[];
  /** Defaults of the core's settings that differ for this task (draws, permutations). */
  defaults?: Partial<Pick<ChoiceSettings, "draws" | "permutations" | "protocol" | "temperature">>;
  /** The prompt of a context with its options in the order shown (default: choicePrompt). */
  prompt?(context: ChoiceContext): PromptParts;
  /** Values of a measured context for its record's `extra` (decide: p_b, js, …). */
  contextExtra?(context: ChoiceContext, record: ContextRecord): Record<string, unknown>;
  /** Aggregates over the scored, on-format records of a group ("all" for every context) for `metrics.extra`. */
  aggregateExtra?(records: readonly ContextRecord[], settings: ChoiceSettings, group: string): Record<string, unknown>;
  /** The text table; default: choiceTable. */
  table?(results: readonly ChoiceResult[]): TaskTable;
  plots(results: readonly ChoiceResult[]): readonly TaskPlot[];
  /** Its own option values, carried in the result's settings. */
  extraSettings?(values: TaskOptionValues): Record<string, unknown>;
}
