// The flags every choice task takes (beyond the common --model, --runs, --seed, --json, --out, --no-save) and the
// typed settings made from them. A task adds its own options after these (ChoiceTaskSpec.options).

import { InputError } from "../../errors.ts";
import type { TaskOption, TaskOptionValues } from "../task.ts";
import type { ChoiceReader, ChoiceSettings } from "./types.ts";

export const CHOICE_DEFAULTS = { draws: 8, permutations: 1, protocol: "sequential", temperature: 1, prune: 1e-7, bootstrap: 1000, runs: 1 } as const;

type Defaults = Partial<Pick<ChoiceSettings, "draws" | "permutations" | "protocol" | "temperature">>;

/** The shared options of a choice task whose data is read by `readers` (the generic JSONL reader included). */
export function choiceOptions(readers: readonly ChoiceReader[], defaults: Defaults = {}): TaskOption[] {
  const d = { ...CHOICE_DEFAULTS, ...defaults };
  return [
    { name: "data", value: "path", description: `the data: a folder or a file (${readers.map((r) => r.name).join(", ")}; docs/tasks.md)`, kind: { type: "text" } },
    { name: "format", value: "name", description: "the data's layout; auto: recognised from the files", kind: { type: "choice", values: ["auto", ...readers.map((r) => r.name)] }, default: "auto" },
    { name: "protocol", short: "p", value: "name", description: "sequential: each draw sees the earlier answers (the per-context D/E verdict); independent: each draw afresh", kind: { type: "choice", values: ["sequential", "independent"] }, default: d.protocol },
    { name: "draws", value: "n", description: "answers drawn per context and run", kind: { type: "whole", min: 1 }, default: d.draws },
    { name: "permutations", value: "n", description: "re-orderings of each context's options (option-order stability); 0 = none", kind: { type: "whole", min: 0 }, default: d.permutations },
    { name: "temperature", short: "t", value: "t", description: "temperature P_token is read at", kind: { type: "real", min: 0 }, default: d.temperature },
    { name: "prune", value: "p", description: "option paths less probable than p are not followed when P_token is read", kind: { type: "real", min: 0, max: 0.999999 }, default: CHOICE_DEFAULTS.prune },
    { name: "limit", value: "n", description: "only the first N contexts of the data", kind: { type: "whole", min: 1 } },
    { name: "sample", value: "n", description: "N contexts drawn with --seed (after --limit), reproducibly", kind: { type: "whole", min: 1 } },
    { name: "bootstrap", value: "n", description: "bootstrap resamples of the intervals over contexts and of each context's verdict", kind: { type: "whole", min: 0 }, default: CHOICE_DEFAULTS.bootstrap },
    { name: "dry-run", description: "print the contexts and scorings a measurement would take and a time estimate, measure nothing", kind: { type: "switch" } },
  ];
}

/** The typed settings from the option values (InputError when --data is missing). */
export function choiceSettings(task: string, v: TaskOptionValues, defaults: Defaults = {}): ChoiceSettings {
  const d = { ...CHOICE_DEFAULTS, ...defaults };
  if (typeof v.data !== "string" || v.data === "") throw new InputError(`task ${task} needs --data PATH (a folder or a file); see ptalign task ${task} --help for the layouts it reads`);
  const num = (x: unknown, fallback: number) => (typeof x === "number" ? x : fallback);
  const opt = (x: unknown) => (typeof x === "number" ? x : undefined);
  const limit = opt(v.limit);
  const sample = opt(v.sample);
  return {
    data: v.data,
    format: typeof v.format === "string" ? v.format : "auto",
    protocol: v.protocol === "independent" ? "independent" : v.protocol === "sequential" ? "sequential" : d.protocol,
    draws: num(v.draws, d.draws),
    runs: v.runs ?? d.runs,
    seed: v.seed,
    temperature: num(v.temperature, d.temperature),
    prune: num(v.prune, d.prune),
    permutations: num(v.permutations, d.permutations),
    ...(limit !== undefined ? { limit } : {}),
    ...(sample !== undefined ? { sample } : {}),
    bootstrap: num(v.bootstrap, d.bootstrap),
    ...(v.save !== false && typeof v.out === "string" ? { out: v.out } : {}),
  };
}
