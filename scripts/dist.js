// dist/: the sources (src/) as JavaScript, one file per source file, so that bin/ptalign.js starts without a
// TypeScript loader. tsx's loader runs in a thread of its own and hands every module across: measured on 2 cores,
// `ptalign ls` took 1.5 CPU-s through it and 0.4 from dist/, `ptalign run --steps 5` 1.9 and 0.9
// (docs/architecture.md, "Start-up cost").
//
// dist/ is never trusted blindly: dist/stamp.json records what it was built from (every file of src/, tsconfig.json
// and this file: path, size, modification time, and a hash of their contents). bin/ptalign.js runs dist/ only when the
// inputs still match it, and otherwise the sources through tsx, as before: an edited file is never run from an older
// build. `npm ci` / `npm install` build it (the `prepare` script), `npm test` before its test processes start, and
// `npm run build` by hand.
//
// Plain JavaScript on purpose: bin/ptalign.js imports `distState` before any loader exists.
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const STAMP = "stamp.json";

/** The files dist/ is built from, relative to `root`, sorted; and the directories of src/ (a new file changes one). */
function inputs(root) {
  const dirs = ["src"];
  const files = ["scripts/dist.js", "tsconfig.json"];
  for (const entry of readdirSync(join(root, "src"), { recursive: true, withFileTypes: true })) {
    const rel = relative(root, join(entry.parentPath ?? entry.path, entry.name));
    if (entry.isDirectory()) dirs.push(rel);
    else files.push(rel);
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

function contentHash(root, files) {
  const h = createHash("sha256");
  for (const f of files) h.update(f).update("\0").update(readFileSync(join(root, f))).update("\0");
  return h.digest("hex");
}

const statOf = (root, rel) => {
  const s = statSync(join(root, rel));
  return [s.size, s.mtimeMs];
};

/**
 * Whether dist/ under `root` was built from the sources as they are now: "fresh" when every input and directory has the
 * size and modification time recorded (~250 stat calls, a few ms); "same-content" when one differs (a checkout touches
 * files without changing them) but the hash of the contents is the recorded one; "stale" otherwise, or when anything
 * cannot be read. Never throws.
 */
export function distState(root = ROOT) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, "dist", STAMP), "utf8"));
  } catch {
    return "stale";
  }
  try {
    const same = (recorded) => Object.entries(recorded).every(([rel, [size, mtime]]) => {
      const [s, m] = statOf(root, rel);
      return s === size && m === mtime;
    });
    if (same(stamp.files) && same(stamp.dirs)) return "fresh";
    const now = inputs(root);
    return now.files.length === Object.keys(stamp.files).length && contentHash(root, now.files) === stamp.hash ? "same-content" : "stale";
  } catch {
    return "stale";
  }
}

/**
 * Builds dist/ from src/ with esbuild: each source file transpiled on its own (relative imports kept, `.ts` → `.js`;
 * packages imported from node_modules as they are), so dynamic imports stay lazy and every `import.meta.url` points to
 * the same place relative to the repository as in src/ (dist/ sits where src/ does, one level under the root). Built
 * in a directory of its own and renamed into place: a CLI starting meanwhile sees the old dist/, none, or the new one,
 * never half of one. Resolves to the number of files written.
 */
export async function buildDist(root = ROOT) {
  const { build } = await import("esbuild");
  const before = inputs(root);
  const files = Object.fromEntries(before.files.map((f) => [f, statOf(root, f)]));
  const dirs = Object.fromEntries(before.dirs.map((d) => [d, statOf(root, d)]));
  const hash = contentHash(root, before.files);
  // Every file of src/ is an input (a README too: any change means a rebuild), but only code is built.
  const entryPoints = before.files.filter((f) => f.startsWith("src/") && f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => join(root, f));
  const dist = join(root, "dist");
  const stage = mkdtempSync(join(root, ".dist-"));
  try {
    await build({
      entryPoints,
      outdir: stage,
      outbase: join(root, "src"),
      bundle: true, // only to run the plugin below on every import; nothing is bundled
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      sourcemap: "linked",
      logLevel: "silent",
      plugins: [{
        name: "relative-imports-as-js",
        setup(b) {
          b.onResolve({ filter: /^\.\.?\// }, (a) => (a.kind === "entry-point" ? undefined : { path: a.path.replace(/\.ts$/, ".js"), external: true }));
        },
      }],
    });
    writeFileSync(join(stage, STAMP), JSON.stringify({ hash, files, dirs }) + "\n");
    const old = `${stage}-old`;
    try {
      renameSync(dist, old);
    } catch (err) {
      if (err.code !== "ENOENT") throw err;
    }
    try {
      renameSync(stage, dist);
    } catch (err) {
      if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err; // another build placed its dist/ first
    }
    rmSync(old, { recursive: true, force: true });
    return entryPoints.length;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

// `node scripts/dist.js` (npm run build, npm's `prepare`): builds dist/ unless it is fresh; `--force` builds anyway.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes("--force") || distState() !== "fresh") {
    try {
      const n = await buildDist();
      process.stdout.write(`ptalign: built dist/ (${n} files)\n`);
    } catch (err) {
      process.stderr.write(`ptalign: could not build dist/ (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); the CLI runs the sources through tsx instead\n`);
      process.exitCode = 1;
    }
  }
}
