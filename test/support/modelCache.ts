// One cache of generated GGUF models for the whole test run, shared by every test file (each runs in its own
// process, several at once): a model is built once, under a directory named by the hash of its spec and of the
// generator's source, and moved into place with an atomic rename, so parallel files never read a half-written file.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SYNTH = fileURLToPath(new URL("../../src/synth/", import.meta.url));
let sourceHash: string | undefined;

/** The generator's code is part of the key: a change to src/synth builds the models afresh. */
function synthHash(): string {
  sourceHash ??= (() => {
    const h = createHash("sha256");
    for (const f of readdirSync(SYNTH).sort()) h.update(f).update(readFileSync(join(SYNTH, f)));
    return h.digest("hex");
  })();
  return sourceHash;
}

export const MODEL_CACHE = process.env.PTALIGN_TEST_MODEL_CACHE ?? join(tmpdir(), "ptalign-test-models");

/**
 * The path of the model `file` built by `write(path)` from `spec` (anything JSON can hold that determines the
 * model): built once per spec, then shared. The file keeps its name (model labels come from it).
 */
export async function cachedModel(file: string, spec: unknown, write: (path: string) => Promise<unknown>): Promise<string> {
  const key = createHash("sha256").update(synthHash()).update(file).update(JSON.stringify(spec)).digest("hex").slice(0, 24);
  const home = join(MODEL_CACHE, key);
  const path = join(home, file);
  if (existsSync(path)) return path;
  mkdirSync(MODEL_CACHE, { recursive: true });
  const stage = mkdtempSync(join(MODEL_CACHE, `.stage-${key}-`));
  try {
    await write(join(stage, file));
    renameSync(stage, home);
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    if (!existsSync(path)) throw err; // otherwise another test file built it first
  }
  return path;
}
