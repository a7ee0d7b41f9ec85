// Files written whole or not at all: into FILE.<pid>.tmp, then renamed over FILE, so a reader never sees half a file.
// When the write fails (a full disk) the temporary file is removed: nothing is left behind but what was there before.

import { rename, rm, writeFile } from "node:fs/promises";

export async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    // Name the file the user asked for, not the temporary one that is gone.
    const e = err as NodeJS.ErrnoException;
    if (e.path === undefined || e.path === tmp) e.path = file;
    throw err;
  }
}
