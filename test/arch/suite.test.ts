// The layout of `npm test` (test/support/suite.ts): every test file runs exactly once, in a process of its own or
// shared with files of its folder; a shared file cannot carry hooks that would run around its neighbours; a failure
// in any file of a shared process fails the suite.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { entriesOf, PER_SHARED_PROCESS, planSuite, runSuite, testFiles } from "../support/suite.ts";

const TEST_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

async function suiteOf(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ptalign-suite-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}
const passing = (name: string): string => `import { test } from "node:test";\ntest(${JSON.stringify(name)}, () => {});\n`;

describe("npm test's layout", () => {
  it("runs every test file of this repository exactly once, shared processes holding one folder's files", () => {
    const files = testFiles(TEST_DIR);
    assert.ok(files.length > 100, `${files.length} test files`);
    const { own, shared } = planSuite(files);
    const placed = [...own, ...shared.flat()];
    assert.deepEqual([...placed].sort(), files);
    for (const group of shared) {
      assert.ok(group.length >= 1 && group.length <= PER_SHARED_PROCESS, `${group.length} files in one process`);
      assert.equal(new Set(group.map((f) => dirname(f))).size, 1, `one folder per process: ${group.join(", ")}`);
    }
    assert.ok(shared.length < files.length - own.length, "some files share a process");
    // node --test starts the files it is given in sorted order: the entry names sort as planned, own files first.
    const entries = entriesOf({ own, shared });
    assert.deepEqual(entries.map((e) => e.files), [...own.map((f) => [f]), ...shared]);
    assert.deepEqual(entries.map((e) => e.name), [...entries.map((e) => e.name)].sort());
    assert.match(entries[0]!.name, /^0+-\w+-\w+\.test\.mjs$/);
  });

  it("refuses to share a file with a top-level before(): it would run around its neighbours' tests", async () => {
    const dir = await suiteOf({ "a/hooked.test.ts": `import { before, test } from "node:test";\nbefore(() => {});\ntest("t", () => {});\n` });
    try {
      assert.throws(() => planSuite(testFiles(dir)), /hooked\.test\.ts has a top-level hook.*test-process: own/);
      await writeFile(join(dir, "a/hooked.test.ts"), `// test-process: own — it has a top-level hook\nimport { before, test } from "node:test";\nbefore(() => {});\ntest("t", () => {});\n`);
      assert.deepEqual(planSuite(testFiles(dir)).own, [join(dir, "a/hooked.test.ts")]);
      // A top-level after() too: node 20 may run it before the next file's tests.
      await writeFile(join(dir, "a/after.test.ts"), `import { after, test } from "node:test";\nafter(() => {});\ntest("t", () => {});\n`);
      assert.throws(() => planSuite(testFiles(dir)), /after\.test\.ts has a top-level hook/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a failing file in a shared process fails the run; its neighbours still run", async () => {
    const dir = await suiteOf({
      "a/one.test.ts": passing("first neighbour"),
      "a/two.test.ts": `import assert from "node:assert/strict";\nimport { test } from "node:test";\ntest("fails", () => assert.equal(1, 2));\n`,
      "a/three.test.ts": passing("second neighbour"),
      "b/alone.test.ts": `// test-process: own — a test of the layout\n${passing("alone")}`,
    });
    try {
      const out = join(dir, "out.tap");
      const code = await runSuite({ testDir: dir, concurrency: 2, flags: ["--test-reporter=tap", `--test-reporter-destination=${out}`], stdio: "ignore" });
      const tap = await readFile(out, "utf8");
      assert.equal(code, 1);
      for (const name of ["first neighbour", "second neighbour", "alone"]) assert.match(tap, new RegExp(`^ok \\d+ - ${name}$`, "m"));
      assert.match(tap, /^not ok \d+ - fails$/m);
      assert.match(tap, /^# tests 4$/m);

      await writeFile(join(dir, "a/two.test.ts"), passing("fixed"));
      assert.equal(await runSuite({ testDir: dir, concurrency: 2, flags: ["--test-reporter=tap", `--test-reporter-destination=${out}`], stdio: "ignore" }), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
