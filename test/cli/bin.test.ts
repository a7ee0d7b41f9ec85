// The real binary (bin/ptalign.js) in a child process: its exit status and its two output streams are the subject
// here. Every other CLI test calls main(argv) in-process (test/support/cli.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inChild } from "../support/cli.ts";

describe("bin/ptalign.js as a process", () => {
  it("bad input: exit status 2, one line on stderr, nothing on stdout", async () => {
    const r = await inChild(["run", "--model", "sim:e", "--target", "{1:-0.1,2:1.1}", "--no-save"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^ptalign: /);
  });

  it("a good run: exit status 0, the JSON alone on stdout, stderr empty", async () => {
    const r = await inChild(["run", "--model", "sim:d", "--target", "extreme", "--steps", "3", "--runs", "1", "--seed", "7", "--json", "--no-save"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const result = JSON.parse(r.stdout) as { runs: { steps: unknown[] }[] };
    assert.equal(result.runs[0]!.steps.length, 3);
  });

  it("usage errors exit 2 and --version exits 0", async () => {
    const [bad, version] = await Promise.all([inChild(["frobnicate"]), inChild(["--version"])]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command/);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe("main(argv) in-process", () => {
  it("returns the exit code and leaves process.exitCode as it was", async () => {
    const { ptalign } = await import("../support/cli.ts");
    process.exitCode = undefined;
    const bad = await ptalign(["run", "--model", "sim:e", "--target", "foo(1)", "--no-save"]);
    assert.equal(bad.code, 2);
    assert.equal(process.exitCode, undefined);
    const ok = await ptalign(["run", "--model", "sim:d", "--target", "extreme", "--steps", "3", "--runs", "1", "--seed", "7", "--json", "--no-save"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr, "");
    assert.equal(JSON.parse(ok.stdout).runs[0].steps.length, 3);
  });

  it("captures only what the call writes: a write from outside the call is not captured", async () => {
    const { ptalign } = await import("../support/cli.ts");
    const marker = "(a line from outside the CLI call, on purpose)\n";
    let wrote = false;
    const call = ptalign(["run", "--model", "sim:d", "--target", "extreme", "--steps", "200", "--runs", "2", "--json", "--no-save"]);
    setTimeout(() => (wrote = process.stderr.write(marker) || true), 0);
    const r = await call;
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(wrote);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes(marker) && !r.stdout.includes(marker));
    assert.equal(JSON.parse(r.stdout).runs.length, 2);
  });
});
