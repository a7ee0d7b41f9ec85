// The downstream tasks' part of the HTML report: each registered task's charts (Vega-Lite specs the task builds,
// src/tasks/<name>/plots.ts) rendered to static SVG here, and one line per task result. The report looks tasks up
// in the task registry, so a new task's charts appear with no edit here (report → tasks, never the other way).

import { listTasks, taskOf } from "../tasks/registry.ts";
import type { TaskResult } from "../types/task.ts";
import { renderSvg } from "./charts.ts";
import { esc } from "./escape.ts";

/** Per registered task, its charts as SVG strings (null where there are no results of that task). */
export async function taskChartsSvg(results: readonly TaskResult[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const task of listTasks()) {
    const mine = results.filter((r) => r.task === task.name);
    out[task.name] = mine.length ? (await Promise.all(task.plots(mine).map((p) => renderSvg(p.spec)))).join("\n") : null;
  }
  return out;
}

/**
 * The tasks' section of the report: each task's charts with their captions and a one-line note per task result, or
 * "" when DIR holds no task results. SVG from Vega's renderer; text escaped here.
 */
export async function taskReportSection(results: readonly TaskResult[]): Promise<string> {
  if (results.length === 0) return "";
  const figures: string[] = [];
  for (const task of listTasks()) {
    const mine = results.filter((r) => r.task === task.name);
    if (mine.length === 0) continue;
    for (const p of task.plots(mine)) figures.push(`<figure>${await renderSvg(p.spec)}<figcaption>${esc(p.caption)}</figcaption></figure>`);
  }
  // A result of a task this version does not know still gets its line.
  const line = (r: TaskResult) => taskOf(r)?.describe(r) ?? `${r.task} · ${r.model}`;
  return [`<section class="tasks"><h2>Downstream tasks</h2>`, ...figures, `<ul>${results.map((r) => `<li>${esc(line(r))}</li>`).join("")}</ul></section>`].join("\n");
}
