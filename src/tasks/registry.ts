// The task registry: `ptalign task` builds one subcommand per registered task, the report renders each task's plots,
// and a stored result finds its task by its `task` key. A new task is a folder under src/tasks/ with a task.ts
// implementing Task (src/tasks/task.ts), plus one line below.

import { InputError } from "../errors.ts";
import { codegenTask } from "./codegen/task.ts";
import { decideTask } from "./decide/task.ts";
import { recommendTask } from "./recommend/task.ts";
import { searchTask } from "./search/task.ts";
import type { AnyTask, TaskResult } from "./task.ts";

const registry = new Map<string, AnyTask>();

/** Adds a task; its name must be new (it becomes `ptalign task NAME` and the `task` key of its results). */
export function registerTask(task: AnyTask): void {
  if (!/^[a-z][a-z0-9-]*$/.test(task.name)) throw new InputError(`task name "${task.name}" must be lower-case letters, digits and dashes`);
  if (registry.has(task.name)) throw new InputError(`a task named "${task.name}" is already registered`);
  registry.set(task.name, task);
}

/** Every registered task, in registration order (the built-ins first). */
export function listTasks(): readonly AnyTask[] {
  return [...registry.values()];
}

export function getTask(name: string): AnyTask | undefined {
  return registry.get(name);
}

/** The task a stored result belongs to (undefined for a task this version does not know). */
export function taskOf(result: Pick<TaskResult, "task">): AnyTask | undefined {
  return registry.get(result.task);
}

registerTask(codegenTask);
registerTask(recommendTask);
registerTask(decideTask);
registerTask(searchTask);
