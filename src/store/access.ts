// Where results may be written, checked before any work starts, so a bad --out costs one line and nothing else:
// a path that is a file or lies under a file, a directory that cannot be written (read-only copy, another user's
// results), an output file whose directory is missing. Also the translation of SQLite's damage codes into a message
// that names the file and says what to do.

import { accessSync, closeSync, constants, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DiskFull, InputError, isDiskFull } from "../errors.ts";

const code = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/** The nearest existing ancestor of a path (the path itself when it exists). */
function existingAncestor(path: string): { path: string; isDir: boolean } {
  let p = resolve(path);
  for (;;) {
    try {
      return { path: p, isDir: statSync(p).isDirectory() };
    } catch (err) {
      if (code(err) !== "ENOENT" && code(err) !== "ENOTDIR") throw err;
      const up = dirname(p);
      if (up === p) return { path: p, isDir: true };
      p = up;
    }
  }
}

/** DIR is, or could be created as, a writable directory (nothing is created: the command may still fail on its input). */
export function checkWritableDir(dir: string, flag = "--out"): void {
  const anc = existingAncestor(dir);
  if (!anc.isDir) throw notADir(dir, anc.path, flag);
  if (anc.path === resolve(dir)) {
    probeWrite(dir, flag);
    return;
  }
  try {
    accessSync(anc.path, constants.W_OK);
  } catch (err) {
    throw new InputError(`results directory ${dir} cannot be created: ${anc.path} is not writable (${code(err)}); choose another ${flag}`);
  }
}

const notADir = (dir: string, found: string, flag: string) =>
  new InputError(found === resolve(dir) ? `${flag} ${dir} is a file, not a directory: give a directory (it is created if missing)` : `${flag} ${dir} lies under the file ${found}: give a directory path`);

function probeWrite(dir: string, flag: string): void {
  try {
    const probe = join(dir, `.ptalign-write-test-${process.pid}`);
    closeSync(openSync(probe, "w"));
    unlinkSync(probe);
  } catch (err) {
    const c = code(err);
    if (c === "EACCES" || c === "EPERM" || c === "EROFS") throw new InputError(`results directory ${dir} is not writable (${c}): choose another ${flag}, or copy the directory somewhere you can write`);
    if (c === "ENOSPC" || c === "EDQUOT") throw new DiskFull(`results directory ${dir}: no space left on the device (${c}): free some space or choose another ${flag}`);
    throw err;
  }
}

/** Creates DIR if needed and proves it can be written (by writing a file: access() says yes to root on a read-only mount). */
export function ensureWritableDir(dir: string, flag = "--out"): void {
  checkWritableDir(dir, flag);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const c = code(err);
    if (c === "EACCES" || c === "EPERM" || c === "EROFS") throw new InputError(`results directory ${dir} cannot be created (${c}): choose another ${flag}`);
    throw err;
  }
  probeWrite(dir, flag);
}

/** An output FILE: its directory must exist and be writable, and FILE itself must not be a directory. */
export function checkOutputFile(file: string, flag = "--out"): void {
  const dir = dirname(resolve(file));
  const anc = existingAncestor(dir);
  if (anc.path !== dir) throw new InputError(`${flag} ${file}: the directory ${dirname(file)} does not exist${anc.isDir ? " (create it first)" : ` (${anc.path} is a file)`}`);
  if (!anc.isDir) throw new InputError(`${flag} ${file}: ${dirname(file)} is a file, not a directory`);
  try {
    if (statSync(file).isDirectory()) throw new InputError(`${flag} ${file} is a directory: give a file name (e.g. ${join(file, "report.html")})`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    if (code(err) !== "ENOENT") throw err;
  }
}

/** SQLite's codes for a file that is not (or no longer) a sound database. */
export function isDamaged(err: unknown): boolean {
  const c = code(err);
  return c === "SQLITE_NOTADB" || c === "SQLITE_CORRUPT" || (typeof c === "string" && c.startsWith("SQLITE_CORRUPT_"));
}

/** The store file is damaged: which file, and what to do (runs/*.json hold every finished run too). */
export class DamagedStoreError extends InputError {
  constructor(readonly file: string, cause: unknown) {
    const why = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0];
    super(`${file} is damaged (${why}): move it aside (mv ${file} ${file}.damaged); the finished runs in ${join(dirname(file), "runs")}/*.json are still read, and the next run starts a new store`);
  }
}

/**
 * Last line of defence for the CLI: a file-system or SQLite failure that no command caught gets its one-line
 * explanation (exit 2: the user's files must change; exit 1 for a full disk, which is no fault of the input) instead
 * of "internal error".
 */
export function translate(err: unknown): unknown {
  if (err instanceof InputError || err instanceof DiskFull || !(err instanceof Error)) return err;
  if (isDiskFull(err)) return diskFull(err);
  if (isDamaged(err)) return new InputError(`a results store (${DB_FILE_NAME}) is damaged (${err.message.split("\n")[0]}): move it aside; the finished runs in runs/*.json are still read`);
  const e = err as NodeJS.ErrnoException;
  const what: Record<string, string> = { EACCES: "permission denied", EPERM: "not permitted", EROFS: "read-only file system", ENOTDIR: "a part of the path is a file, not a directory", EISDIR: "is a directory", EEXIST: "already exists", ENOENT: "no such file or directory" };
  if (e.code && what[e.code] && e.path) return new InputError(`cannot use ${e.path}: ${what[e.code]} (${e.code})`);
  if (e.code?.startsWith("SQLITE_READONLY")) return new InputError(`a results store cannot be written (${e.code}): choose another --out, or copy the results directory somewhere you can write`);
  return err;
}

const DB_FILE_NAME = "ptalign.db";

/**
 * A full disk (ENOSPC, EDQUOT, SQLITE_FULL) in one line: where, and what to do. What was stored before stays, and an
 * interrupted measurement is resumed by the same command once there is room.
 */
export function diskFull(err: unknown): DiskFull {
  const e = err as NodeJS.ErrnoException;
  const where = e.path ? ` writing ${e.path}` : e.code === "SQLITE_FULL" ? " writing the results store" : e.syscall === "write" ? " writing the output" : "";
  return new DiskFull(`no space left on the device (${e.code})${where}: free some space or write elsewhere (another --out, or redirect the output to another disk), then run the same command again — what was stored is kept`);
}
