import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { writeDLikeModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

/** Bad input: one line on stderr naming the problem, exit 2, no stack trace. */
async function rejects(args: string[], pattern: RegExp, code = 2) {
  const res = await ptalign(args);
  assert.equal(res.code, code, `exit ${res.code}: ${res.stderr}`);
  const lines = res.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected, got:\n${res.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
  assert.equal(res.stdout, "");
}

describe("ptalign: bad input is one line and exit 2", () => {
  let dir: string;
  let model: string;
  before(async () => {
    dir = await tempDir();
    model = await writeDLikeModel(dir);
  });
  const run = (target: string, ...rest: string[]) => ["run", "--model", "sim:e", "--target", target, "--no-save", ...rest];

  it("unknown DIST syntax", () => rejects(run("foo(1)"), /unknown distribution "foo\(1\)"/));
  it("negative probability", () => rejects(run("{1:-0.1,2:1.1}"), /probabilit.*-0\.1.*≥ 0/));
  it("NaN probability", () => rejects(run("{1:NaN,2:1}"), /NaN|not a (finite )?number/i));
  it("probabilities not summing to 1", () => rejects(run("{1:0.5,2:0.4}"), /sum to 0\.9, expected 1 \(use --normalize\)/));
  it("duplicate keys", () => rejects(run("{1:0.5,1:0.5}"), /duplicate answer "1"/));
  it("empty support", () => rejects(run("{}"), /empty distribution/));
  it("--steps 0", () => rejects(run("extreme", "--steps", "0"), /--steps must be a whole number ≥ 1 \(got 0\)/));
  it("a missing model file", () => rejects(["run", "--model", join(dir, "nope.gguf"), "--target", "extreme"], /nope\.gguf does not exist/));
  it("a file that is not GGUF", async () => {
    const fake = join(dir, "fake.gguf");
    await writeFile(fake, "PK\x03\x04 this is a zip, not a model");
    await rejects(["run", "--model", fake, "--target", "extreme"], /is not a GGUF file/);
  });
  it("an unknown model spec", () => rejects(["run", "--model", "llama3", "--target", "extreme"], /unknown model spec "llama3"/));
  it("a bad sim parameter", () => rejects(run("extreme").map((a) => (a === "sim:e" ? "sim:e?noise=-1" : a)), /noise/));
  it("an unknown flag", () => rejects(["run", "--model", "sim:e", "--target", "extreme", "--bogus"], /unknown option '--bogus'/));
  it("a prompt file that does not exist", () => rejects(run("extreme", "--prompt-file", join(dir, "none.txt")), /cannot read prompt file/));
  it("an answer containing the delimiter", () => rejects(["run", "--model", model, "--target", "{'a,b':0.5,c:0.5}", "--no-save"], /contains the delimiter ","/));

  it("--normalize rescales instead", async () => {
    const res = await ptalign(run("{1:0.5,2:0.4}", "--normalize", "--steps", "3", "--runs", "2", "--json"));
    assert.equal(res.code, 0, res.stderr);
    const probs = (JSON.parse(res.stdout) as { target: { probs: number[] } }).target.probs;
    assert.ok(Math.abs(probs[0]! - 0.5 / 0.9) < 1e-12);
  });

  it("a failing run keeps the steps computed before (exit 1)", async () => {
    // A context too small for the requested steps: the run stops when it is full (the engine rounds the size up).
    const out = join(dir, "partial");
    const res = await ptalign(["run", "--model", model, "--target", "extreme", "--steps", "400", "--runs", "1", "--context-size", "320", "--out", out]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr.trim(), /^ptalign: the context needs \d+ tokens but holds \d+.*steps computed before are kept in .*\.partial\.json\)$/);
    const files = await readdir(join(out, "runs"));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /\.partial\.json$/);
  });
});

describe("ptalign: a model whose tokenizer cannot write an answer", () => {
  it("says which answer, exit 2", async () => {
    const { writeBigramModel, eLikeSpec } = await import("../../src/synth/index.ts");
    const path = join(await tempDir(), "no-bytes.gguf");
    // Answers 1..4 exist as pieces; "7" is in no piece and byte tokens are unusable.
    await writeBigramModel(path, { ...eLikeSpec(), byteFallback: false });
    await rejects(["run", "--model", path, "--target", "{1:0.5,7:0.5}", "--no-save"], /tokenizer cannot write the answer "7"/);
  });
});
