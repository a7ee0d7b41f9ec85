// How many sequences of one context the embedded engine measures runs on when --parallel is not given.
//
// Batching R sequences into one decode pays when a decode is bound by reading the weights (a GPU, or large weights
// on any device): R tokens cost about one weight read. On a CPU with a small model a decode is bound by compute, so R
// sequences cost about R times one, and the extra sequences add work (each evaluates the prompt itself). Measured on
// 2 CPU cores with the bench models (issue 19): parallel 5 vs serial 1.1×, sibling trie nodes a level per decode
// 0.96×, and `--parallel 5` on a 32k-vocabulary model evaluated 3,356 tokens against 2,220. So: one sequence on a
// CPU (never slower than serial, by construction), up to 4 on a GPU, fewer when their KV caches would not fit.

export interface ParallelInput {
  /** The engine's device: "cpu" when no GPU is used. */
  device: "cpu" | "gpu";
  /** Runs the caller will measure (no more sequences than runs); unknown: 4. */
  runs?: number;
  /** Bytes of KV cache one full context takes. */
  kvBytesPerSequence: number;
  /** Free memory in bytes. */
  freeBytes: number;
}

/** Sequences by default: 1 on a CPU; on a GPU min(runs, 4), fewer when their KV caches would take more than ¼ of the free memory. */
export function defaultParallel(input: ParallelInput): number {
  if (input.device === "cpu") return 1;
  const fit = Math.floor(input.freeBytes / 4 / Math.max(1, input.kvBytesPerSequence));
  return Math.max(1, Math.min(input.runs ?? 4, 4, fit));
}
