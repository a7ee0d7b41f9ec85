// `--shard i/n`: the i-th of n disjoint parts of a study's cells, for schedulers that start n copies of one command
// without a shared database (a Slurm job array, a Kubernetes indexed Job). Each copy writes its own results
// directory; `ptalign merge` puts them together (docs/scale.md).
//
// The partition is by cell hash, not by position: the cells are sorted by their hash and dealt out in turn (rank k →
// shard k mod n). So it does not depend on the order of the study file's lists (reordering models or targets keeps
// every cell in its shard), and the shards' sizes differ by at most one cell. Adding or removing cells may move
// others to another shard: a moved cell is measured again there, and `merge` takes the two identical copies once.

import { InputError } from "../errors.ts";

export interface Shard {
  /** 0-based: 0 ≤ index < count. */
  index: number;
  count: number;
}

const EXAMPLE = "e.g. --shard 0/4 … --shard 3/4, or --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-3";

/** Parses `i/n` (0 ≤ i < n); anything else is one InputError line. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new InputError(`--shard ${JSON.stringify(text)} is not i/n with whole numbers 0 ≤ i < n (${EXAMPLE})`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || !Number.isSafeInteger(count)) throw new InputError(`--shard ${text.trim()}: the number of shards must be at least 1 (${EXAMPLE})`);
  if (index >= count) throw new InputError(`--shard ${text.trim()}: shards are numbered from 0 to ${count - 1} (${EXAMPLE})`);
  return { index, count };
}

export const shardText = (s: Shard) => `${s.index}/${s.count}`;

/** The cells of `shard`, in their original order (all of them without a shard). */
export function cellsOfShard<C extends { hash: string }>(cells: readonly C[], shard: Shard | undefined): C[] {
  if (!shard || shard.count === 1) return [...cells];
  const ranked = [...cells].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const mine = new Set(ranked.filter((_c, k) => k % shard.count === shard.index));
  return cells.filter((c) => mine.has(c));
}
