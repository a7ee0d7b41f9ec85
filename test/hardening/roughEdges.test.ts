// Issue 20, item 12: rough edges a new user meets. Each case was a misleading message, a silent alteration or a
// silent skip; each now gets one line naming the thing and what to do (or is accepted, where the user was right).
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseStudy } from "../../src/study/spec.ts";
import { inStudyWords } from "../../src/study/words.ts";
import { loadProblems } from "../../src/tasks/codegen/problems.ts";
import { decodeUtf8, invalidUtf8Offset } from "../../src/text.ts";
import { InputError } from "../../src/errors.ts";
import { ptalign } from "../support/cli.ts";
import { writeMultiTokenModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const refused = (re: RegExp) => (e: unknown) => e instanceof InputError && re.test(e.message);

describe("study prompts: a bare path or {file} without a name is a prompt; prompt errors speak of prompts", () => {
  it("a bare path and {file: …} are named after the file", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "p"));
    await writeFile(join(dir, "p", "terse.txt"), "Answer with one of {{support}}.");
    await writeFile(join(dir, "p", "long.md"), "Pick one of {{support}}, {{steps}} times.");
    const s = parseStudy("models: [sim:e]\ntargets: [extreme]\nprompts: [default, p/terse.txt, {file: p/long.md}]\n", join(dir, "s.yaml"));
    assert.deepEqual(s.prompts.map((p) => p.name), ["default", "terse", "long"]);
    assert.match(s.prompts[1]!.template, /^Answer with one of/);
  });
  it("a wrong entry: worded for prompts, not as DIST text", () => {
    assert.throws(() => parseStudy("models: [sim:e]\ntargets: [extreme]\nprompts: [{name: x}]\n", "s.yaml"), refused(/^s\.yaml:3: prompts\[0\]: expected "default", a prompt file's path, or \{file: PATH, name: NAME\} \(name optional\), got a map$/));
    assert.throws(() => parseStudy("models: [sim:e]\ntargets: [extreme]\nprompts: [missing.txt]\n", "/nowhere/s.yaml"), refused(/prompts\[0\]: cannot read prompt file missing\.txt \(ENOENT\)/));
  });
  it("two prompts with one name are refused", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "a.txt"), "One of {{support}}.");
    await mkdir(join(dir, "b"));
    await writeFile(join(dir, "b", "a.txt"), "Any of {{support}}.");
    assert.throws(() => parseStudy("models: [sim:e]\ntargets: [extreme]\nprompts: [a.txt, b/a.txt]\n", join(dir, "s.yaml")), refused(/s\.yaml:3: prompts\[1\]: the prompt name "a" is also prompts\[0\]'s; give each prompt its own name/));
    assert.throws(() => parseStudy("models: [sim:e]\ntargets: [extreme]\nprompts: [{name: x, file: a.txt}, {name: x, file: b/a.txt}]\n", join(dir, "s.yaml")), refused(/the prompt name "x" is also prompts\[0\]'s/));
  });
});

describe("a study's advice names the study file's keys, not flags it does not take", () => {
  it("inStudyWords rewrites the flags a study sets with a key", () => {
    assert.equal(inStudyWords("the context needs 40 tokens but holds 16; pass a larger --context-size or fewer --steps"), "the context needs 40 tokens but holds 16; pass a larger engine.context_size or fewer steps (keys of the study file)");
    assert.equal(inStudyWords("check --base-url"), "check --base-url"); // a command-line option of `run STUDY`: kept
  });
  it("a prompt longer than engine.context_size: the failed cell says engine.context_size and steps", async () => {
    const dir = await tempDir();
    const model = await writeMultiTokenModel(dir);
    await writeFile(join(dir, "s.yaml"), `models: [${model}]\ntargets: ["{1:0.5,2:0.5}"]\nsteps: 3\nruns: 1\nengine: {context_size: 16}\n`);
    const r = await ptalign(["run", join(dir, "s.yaml"), "--out", join(dir, "out")]);
    assert.notEqual(r.code, 0);
    const all = r.stdout + r.stderr;
    assert.match(all, /engine\.context_size/);
    assert.doesNotMatch(all, /--context-size|--steps/);
    assert.doesNotMatch(all, /internal error|\n\s+at /);
  });
});

describe("text files: BOM dropped, invalid UTF-8 refused with the byte offset", () => {
  it("invalidUtf8Offset finds the first bad byte (Latin-1, overlong, surrogate, cut off)", () => {
    assert.equal(invalidUtf8Offset(Buffer.from("café", "utf8")), -1);
    assert.equal(invalidUtf8Offset(Buffer.from("café", "latin1")), 3);
    assert.equal(invalidUtf8Offset(Buffer.from([0x41, 0xc0, 0x80])), 1); // overlong NUL
    assert.equal(invalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80])), 0); // a UTF-16 surrogate
    assert.equal(invalidUtf8Offset(Buffer.from([0x41, 0x42, 0xe2, 0x82])), 2); // cut off
    assert.equal(decodeUtf8(Buffer.from("\uFEFFhi", "utf8"), "f"), "hi");
  });
  it("a problems file with a BOM loads (was: not valid JSON)", async () => {
    const file = join(await tempDir(), "p.jsonl");
    await writeFile(file, "\uFEFF" + JSON.stringify({ task_id: "JavaScript/0", prompt: "function f(x) {\n", entry_point: "f", test: "console.assert(f(1) === 1);" }) + "\n");
    const problems = await loadProblems(file);
    assert.equal(problems[0]!.task_id, "JavaScript/0");
  });
  it("a Latin-1 prompt file: refused naming the file and the byte offset (run --prompt-file and a study's prompts)", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "p.txt"), Buffer.from("Répondez avec {{support}}.", "latin1"));
    const r = await ptalign(["run", "--model", "sim:e", "--target", "{1:0.5,2:0.5}", "--prompt-file", join(dir, "p.txt"), "--steps", "2", "--no-save"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /prompt file .*p\.txt is not UTF-8 \(byte 0xe9 at offset 1\); save it as UTF-8 \(e\.g\. iconv -f latin1 -t utf-8/);
    assert.throws(() => parseStudy("models: [sim:e]\ntargets: [extreme]\nprompts: [p.txt]\n", join(dir, "s.yaml")), refused(/prompts\[0\]: cannot read prompt file p\.txt \(is not UTF-8 \(byte 0xe9 at offset 1\)/));
  });
});

describe("answers equal after Unicode normalisation are one answer", () => {
  it("NFC é and NFD é: refused naming both spellings", async () => {
    const r = await ptalign(["run", "--model", "sim:e", "--target", "{caf\u00e9:0.5,cafe\u0301:0.5}", "--steps", "2", "--no-save"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /answers "café" \(U\+0063 U\+0061 U\+0066 U\+00E9\) and "cafe\u0301" \(U\+0063 U\+0061 U\+0066 U\+0065 U\+0301\) are the same text after Unicode normalisation \(NFC\); list it once/);
  });
});

describe("URLs: a bad % escape and a redirect say which URL and what to do", () => {
  it("a bad % escape in the user name of --base-url (was: URI malformed)", async () => {
    const r = await ptalign(["run", "--model", "openai:m", "--base-url", "http://al%zzice:pw@127.0.0.1:9/v1", "--target", "{1:0.5,2:0.5}", "--steps", "1", "--no-save"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ptalign: --base-url http:\/\/127\.0\.0\.1:9\/v1: the user name in it has a bad % escape .*write a literal % as %25/);
    assert.doesNotMatch(r.stderr, /URI malformed|al%zzice|pw@/);
  });
  it("a redirect: refused, showing where it pointed with the credentials removed", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { location: "http://bob:S3cretPass@127.0.0.1:1/elsewhere/v1/models?x=1" });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await ptalign(["run", "--model", "openai:m", "--base-url", `http://127.0.0.1:${port}/v1`, "--target", "{1:0.5,2:0.5}", "--steps", "1", "--no-save", "--retries", "0"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /answered HTTP 302, a redirect to http:\/\/127\.0\.0\.1:1\/elsewhere\/v1\/models\?x=1; ptalign does not follow redirects/);
      assert.doesNotMatch(r.stderr, /S3cretPass|bob/);
    } finally {
      server.close();
    }
  });
});

describe("unreadable runs/*.json are named, once", () => {
  it("ls warns once naming the files and lists the rest", async () => {
    const dir = await tempDir();
    const run = await ptalign(["run", "--model", "sim:e", "--target", "{1:0.5,2:0.5}", "--steps", "2", "--runs", "1", "--out", dir]);
    assert.equal(run.code, 0, run.stderr);
    await writeFile(join(dir, "runs", "20990101-000000-broken.json"), "{ not json");
    await writeFile(join(dir, "runs", "20990101-000001-other.json"), JSON.stringify({ hello: 1 }));
    const r = await ptalign(["ls", dir]);
    assert.equal(r.code, 0);
    const warnings = r.stderr.trim().split("\n");
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /^ptalign: warning: 2 files in .*runs are not a readable result and are not shown: 20990101-000000-broken\.json, 20990101-000001-other\.json; fix or move them out of runs\//);
    assert.match(r.stdout, /sim:e/);
  });
});
