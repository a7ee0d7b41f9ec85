// Which database a store location names. A location is a results directory (the SQLite store DIR/ptalign.db) or,
// for a database registered here, a URL (e.g. postgresql://…, issue 21). A new database is one new file that
// implements ResultStore (src/store/types.ts) plus one registerStore call in the list at the end of this file.

import { InputError } from "../errors.ts";
import { SqliteStore } from "./sqlite.ts";
import { hidePassword, isPostgresUrl } from "./postgresUrl.ts";
import type { ResultStore } from "./types.ts";

export interface StoreKind {
  /** Name for messages ("sqlite", "postgresql"). */
  name: string;
  /** Whether this kind serves the location (checked in registration order, the last registered first). */
  matches(location: string): boolean;
  /** Opens for writing, creating and migrating the store as needed. */
  openWrite(location: string): Promise<ResultStore>;
  /** Opens for reading without ever writing the location; undefined when it holds no store yet. */
  openRead(location: string): Promise<ResultStore | undefined>;
}

const kinds: StoreKind[] = [];

export function registerStore(kind: StoreKind): void {
  kinds.unshift(kind);
}

/** A URL with a scheme (postgresql://host/db), as opposed to a directory path (a Windows drive letter is a path). */
export const isUrl = (location: string) => /^[a-z][a-z0-9+.-]+:\/\//i.test(location);

/** A location as messages and output show it: a URL without its password. */
export const shownLocation = (location: string) => (isUrl(location) ? hidePassword(location) : location);

function kindOf(location: string): StoreKind {
  const kind = kinds.find((k) => k.matches(location));
  if (!kind) throw new InputError(`no store understands ${shownLocation(location)}: give a results directory${kinds.length > 1 ? ` or a ${kinds.filter((k) => k.name !== "sqlite").map((k) => k.name).join(" / ")} URL` : ""}`);
  return kind;
}

/**
 * Opens the store at `location`: `{ write: true }` creates (and migrates) it; otherwise it is read without writing and
 * undefined means there is none yet.
 */
export function openStore(location: string, opts: { write: true }): Promise<ResultStore>;
export function openStore(location: string, opts?: { write?: false }): Promise<ResultStore | undefined>;
export function openStore(location: string, opts: { write?: boolean } = {}): Promise<ResultStore | undefined> {
  const kind = kindOf(location);
  return opts.write ? kind.openWrite(location) : kind.openRead(location);
}

/** Runs fn with the store opened for writing, closing it afterwards. */
export async function withStore<T>(location: string, fn: (store: ResultStore) => Promise<T>): Promise<T> {
  const store = await openStore(location, { write: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

// The embedded default: any location that is not a URL is a results directory holding ptalign.db.
registerStore({
  name: "sqlite",
  matches: (location) => !isUrl(location),
  openWrite: async (dir) => SqliteStore.open(dir),
  openRead: async (dir) => SqliteStore.openExisting(dir),
});

// A PostgreSQL server (postgresql://… or postgres://…): src/store/postgres.ts, loaded only when a URL names it.
registerStore({
  name: "postgresql",
  matches: isPostgresUrl,
  openWrite: async (url) => (await (await import("./postgres.ts")).PostgresStore.open(url, true))!,
  openRead: async (url) => (await import("./postgres.ts")).PostgresStore.open(url, false),
});
