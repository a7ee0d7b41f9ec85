// The Task interface: what a downstream task declares so that the CLI, the store and the report handle it without
// knowing it. A task is registered in src/tasks/registry.ts; `ptalign task <name>` is built from its declaration
// (src/cli/task.ts), its results are stored as TaskResult (src/types/task.ts), and the report renders its plots
// (src/report/tasks.ts). codegen and recommend implement it as thin adapters over their run.ts.
//
// The unit of work is a *context* (a problem, a user; a query or a choice problem for the choice tasks): `load`
// returns the contexts, `measure` scores every context for one model, as the task defines (codegen: n samples per
// problem executed in the sandbox; recommend: P_token over a user's candidate list) and aggregates them into the
// result. Progress counts `units` of work per model, reported through `onUnit`.

import type * as vl from "vega-lite";
import type { ModelOptions } from "../backends/index.ts";
import type { TaskResult } from "../types/task.ts";

export type { TaskResult };

/** How an option's value is read; the CLI turns each kind into its parser (and its one-line error). */
export type TaskOptionKind =
  | { type: "whole"; min: number }
  | { type: "real"; min: number; max?: number }
  /** Comma-separated numbers (a sweep). */
  | { type: "list"; whole: boolean; min: number }
  /** One of `values`; `hint` is appended to the error ("…; --no-check skips the check"). */
  | { type: "choice"; values: readonly string[]; hint?: string }
  | { type: "text" }
  /** Present or absent (`--dry-run`). */
  | { type: "switch" }
  /** `--no-NAME`: turns the option NAME (declared before it) off, its value becoming false. */
  | { type: "negate" };

export interface TaskOption {
  /** Long name without dashes, kebab-case ("max-tokens"); its value is read under the camelCase key (maxTokens). */
  name: string;
  /** One-letter alias ("n" for -n). */
  short?: string;
  /** Placeholder of the value in help ("list" → <list>); none for switch and negate. */
  value?: string;
  description: string;
  kind: TaskOptionKind;
  default?: string | number | boolean | readonly number[];
}

/** Values of the options every task takes (model, runs, seed) and of its own options, keyed by camelCase name. */
export interface TaskOptionValues {
  /** Independent runs; undefined when not given (each task has its own default). */
  runs?: number;
  seed: number;
  readonly [key: string]: unknown;
}

/** A context left out before any model is measured (a problem whose canonical solution fails its own tests). */
export interface ExcludedContext {
  id: string;
  reason: string;
}

/**
 * The task's own check of its contexts, run by `load` (codegen: each canonical solution against its tests). The
 * library reports what it found; the caller decides: the CLI warns (`warn`) or refuses (`strict`) and names the
 * flags that change it. `contexts` are what is left to measure.
 */
export interface ContextCheck {
  mode: "warn" | "strict";
  /** Contexts checked. */
  total: number;
  failed: readonly ExcludedContext[];
  /** The failures in one line ("problem X: …; problem Y: …"). */
  detail: string;
  /** Words for the caller's messages: "N of M problems do not hold", "problems whose solutions do not hold". */
  words: { one: string; many: string; subject: string; fails: string };
}

export interface TaskData<D> {
  data: D;
  contexts: readonly { id: string }[];
  /** Notes of the loader, the same for every model (print once). */
  notes: readonly string[];
  /** Present when the task checked its contexts. */
  check?: ContextCheck;
}

export interface MeasureEnv {
  /** Options of the model's backend (threads, context size, engine). */
  backend?: ModelOptions;
  /** One unit of work done (see Task.units). */
  onUnit?: () => void;
}

/** Text output built by the task and rendered by the caller: a line, or a table (numbers formatted by the caller). */
export type TaskCell = string | number | null | undefined;
export interface TaskTable {
  header: readonly string[];
  rows: readonly (readonly TaskCell[])[];
}
export type TaskText = readonly (string | TaskTable)[];

export interface TaskEstimate {
  /** Printed with --json. */
  json: unknown;
  text: TaskText;
}

export interface TaskMetric {
  /** The key in the result (dotted for nested keys: "stability.pass1_sd"). */
  name: string;
  meaning: string;
  /** Which way is better, where one is (docs/tasks.md). */
  better?: "higher" | "lower";
}

/** A chart of the task's results for the report: a Vega-Lite spec (data only; the report renders it) and a caption. */
export interface TaskPlot {
  spec: vl.TopLevelSpec;
  caption: string;
}

/**
 * A downstream task. S: its typed settings, D: its loaded data, R: its result. Members are methods so that a
 * registry of Task<unknown, unknown, TaskResult> holds every task.
 */
export interface Task<S = unknown, D = unknown, R extends TaskResult = TaskResult> {
  readonly name: string;
  /** One line for `ptalign task --help` and the subcommand's description. */
  readonly description: string;
  readonly examples: readonly string[];
  readonly options: readonly TaskOption[];
  readonly metrics: readonly TaskMetric[];
  /** The typed settings from the option values (throws InputError for a bad combination). */
  settings(values: TaskOptionValues): S;
  /** Reads the data and its contexts (and runs the task's own check of them). */
  load(settings: S): Promise<TaskData<D>>;
  /** Units of work of one model's measurement (progress). */
  units(data: TaskData<D>, settings: S): number;
  /** Measures one model on every context of the data. */
  measure(model: string, data: TaskData<D>, settings: S, env: MeasureEnv): Promise<R>;
  /** What a measurement would cost, measuring nothing (`--dry-run`), when the task can tell. */
  estimate?(models: readonly string[], data: TaskData<D>, settings: S, env: MeasureEnv): Promise<TaskEstimate>;
  /**
   * Called after the result is stored (DIR/tasks/<id>.json and the store): what the task kept to resume an
   * interrupted measurement can go. Not called with --no-save.
   */
  stored?(result: R): Promise<void>;
  /** The results as a text table (the CLI prints it). */
  table(results: readonly R[]): TaskTable;
  /** Charts for the report. */
  plots(results: readonly R[]): readonly TaskPlot[];
  /** One line naming a result in the report ("codegen · MODEL · 3 problems · …"). */
  describe(result: R): string;
}

/** A model spec shortened for a table: a sim family without its parameters ("sim:e?noise=0.1" → "sim:e"). */
export const modelLabel = (m: string): string => (m.startsWith("sim:") ? m.replace(/\?.*$/, "") : m);

/** A registered task, whatever its settings and data. */
export type AnyTask = Task<unknown, unknown, TaskResult>;
