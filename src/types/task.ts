// What every downstream task result carries, whatever the task. The store, `ls` and the report read only these keys;
// each task adds its own fields (codegen: summaries, cells; recommend: metrics, users), so a new task needs no edit
// here or in the store. Lives with the other shared types (the lowest layer) because the store writes task results.

export interface TaskResult {
  /** Schema version of the task's own result layout. */
  version: number;
  /** The registered task's name (src/tasks/registry.ts). */
  task: string;
  model: string;
  settings: Record<string, unknown>;
  /** What the numbers cannot say (off-format, a comparison that cannot discriminate); printed by the CLI. */
  warnings?: string[];
  /** Set when the result is stored (DIR/tasks/<id>.json). */
  id?: string;
  /**
   * Set when Ctrl-C or SIGTERM stopped the task: the numbers cover the `done` finished units (a problem at one
   * temperature in one run; a user in one run) of the `total` planned.
   */
  interrupted?: { signal: string; done: number; total: number; unit: string };
}
