// A real full file system for tests (issue 20.10): a small tmpfs mounted under a temp directory (root only), filled
// with a filler file to the byte, or to `spare` bytes short so that a command fills it part way. Without the right
// to mount, `why` says so and the caller skips: filling a shared tmpfs (/dev/shm) would starve the machine's other
// processes. The mount is undone by `unmount` (call it in the after hook) and, lazily, at process exit.
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

export interface FullDisk {
  /** The mount point ("" when not mounted). */
  dir: string;
  mounted: boolean;
  /** Why nothing was mounted. */
  why: string;
  /** Fills the file system, then gives `spare` bytes back (0: full to the last byte). */
  fill(spare?: number): void;
  /** Removes the filler: the space is free again. */
  unfill(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (16m: room for SQLite's write-ahead log, which grows to ~4 MB before a checkpoint). */
export async function mountSmallDisk(size = "16m"): Promise<FullDisk> {
  const dir = join(await tempDir(), "fs");
  mkdirSync(dir);
  let mounted = false;
  let why = "";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir], { stdio: "pipe" });
    mounted = true;
    process.once("exit", () => {
      try {
        execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      } catch {
        /* already unmounted */
      }
    });
  } catch (err) {
    why = `cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? err).trim().split("\n")[0]}); not filling a shared tmpfs instead`;
  }
  const filler = join(dir, ".filler");
  return {
    dir,
    mounted,
    why,
    fill(spare = 0) {
      const fd = openSync(filler, "w");
      try {
        for (const size of [64 * 1024, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 1);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          }
        }
        if (spare > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - spare));
      } finally {
        closeSync(fd);
      }
    },
    unfill: () => rmSync(filler, { force: true }),
    unmount() {
      if (!mounted) return;
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      mounted = false;
    },
  };
}

/** Every file under dir, recursively. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Temporary files left behind (FILE.<pid>.tmp). */
export const tempFiles = (dir: string): string[] => filesUnder(dir).filter((f) => f.endsWith(".tmp"));
