// dist/ (scripts/dist.js): the sources as JavaScript, which bin/ptalign.js runs only while they match the sources.
// Built here in a copy of the repository (bin/, scripts/, src/, tsconfig.json, package.json; node_modules linked), so
// the checks can edit sources and dist/ without touching the real ones.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import { buildDist, distState, ROOT } from "../../scripts/dist.js";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const run = promisify(execFile);

describe("dist/: built from the sources, run only while it matches them", () => {
  let root: string;
  let results: string;
  const file = (rel: string) => join(root, rel);
  const edit = (rel: string, from: string, to: string) => {
    const text = readFileSync(file(rel), "utf8");
    assert.ok(text.includes(from), `${rel} contains ${from}`);
    writeFileSync(file(rel), text.replace(from, to));
  };
  const version = async () => (await run(process.execPath, [file("bin/ptalign.js"), "--version"], { env: { ...process.env, CI: "1" } })).stdout;

  before(async () => {
    root = await tempDir();
    for (const part of ["bin", "scripts", "src", "tsconfig.json", "package.json"]) cpSync(join(ROOT, part), file(part), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), file("node_modules"));
    results = join(await tempDir(), "results");
    const made = await ptalign(["run", "--model", "sim:d", "--target", "extreme", "--steps", "3", "--runs", "1", "--out", results]);
    assert.equal(made.code, 0, made.stderr);
  });

  it("one JavaScript file per source file; relative imports end in .js, packages stay imports, a dynamic import stays lazy", async () => {
    assert.equal(distState(root), "stale", "no dist/ yet");
    const n = await buildDist(root);
    assert.ok(n > 200, `${n} files`);
    assert.equal(distState(root), "fresh");
    const main = readFileSync(file("dist/cli/main.js"), "utf8");
    assert.match(main, /from "commander"/, "a package is imported, not bundled");
    assert.match(main, /from "\.\/common\.js"/, "a relative import points to its .js file");
    assert.doesNotMatch(main, /\.ts"/, "no .ts specifier is left");
    // main.ts loads each command's module on demand: it must stay a separate file, imported when needed.
    assert.match(main, /import\("\.\/run\.js"\)/);
    assert.ok(existsSync(file("dist/cli/run.js")));
    assert.ok(!main.includes("function runCommand"), "run.ts is not inlined into main.js");
  });

  it("bin/ptalign.js runs dist/ while it is fresh and the sources once one changes", async () => {
    // The version printed comes from dist/cli/main.js or src/cli/main.ts: mark each to see which one ran.
    edit("dist/cli/main.js", '.version("0.1.0")', '.version("9.9.9-dist")');
    assert.equal(distState(root), "fresh", "dist/ is not an input");
    assert.equal(await version(), "9.9.9-dist\n");
    edit("src/cli/main.ts", '.version("0.1.0")', '.version("8.8.8-src")');
    assert.equal(distState(root), "stale");
    assert.equal(await version(), "8.8.8-src\n", "an edited source is never run from an older build");
    edit("src/cli/main.ts", '.version("8.8.8-src")', '.version("0.1.0")');
    assert.equal(distState(root), "same-content", "the edit undone: the same bytes as built");
    assert.equal(await version(), "9.9.9-dist\n");
  });

  it("the report viewer's render worker runs from dist/ (renderWorker.js, no TypeScript loader)", async () => {
    assert.equal(distState(root), "same-content");
    const { startRenderer } = (await import(pathToFileURL(file("dist/report/worker.js")).href)) as typeof import("../../src/report/worker.ts");
    const renderer = startRenderer();
    const alive = setInterval(() => undefined, 1000); // the worker is unref'd: in `view` the server keeps the process up
    try {
      const html = await renderer.render({ kind: "page", dir: results, version: "v1", onDemand: "/charts/" });
      assert.ok(html && html.includes("sim:d") && html.includes("<svg"), "the page, with its charts");
    } finally {
      clearInterval(alive);
      await renderer.close();
    }
  });

  it("a touched but unchanged file keeps dist/ in use; a new, an edited or a removed file does not", async () => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(file("src/errors.ts"), later, later);
    assert.equal(distState(root), "same-content");
    writeFileSync(file("src/extra.ts"), "export const x = 1;\n");
    assert.equal(distState(root), "stale", "a new source file");
    rmSync(file("src/extra.ts"));
    assert.equal(distState(root), "same-content", "back as built");
    edit("tsconfig.json", '"strict": true', '"strict": false');
    assert.equal(distState(root), "stale", "tsconfig.json is an input");
    edit("tsconfig.json", '"strict": false', '"strict": true');
    assert.equal(distState(root), "same-content");
    rmSync(file("src/cli/export.ts"));
    assert.equal(distState(root), "stale", "a removed source file");
    writeFileSync(file("dist/stamp.json"), "{ not json");
    assert.equal(distState(root), "stale", "an unreadable stamp");
  });
});
