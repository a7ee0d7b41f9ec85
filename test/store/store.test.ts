import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { csvField } from "../../src/report/export.ts";
import { openStore } from "../../src/store/registry.ts";
import type { Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const BIN = fileURLToPath(new URL("../../bin/ptalign.js", import.meta.url));

/** Minimal RFC 4180 parser for the test (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n") row.push(field.replace(/\r$/, "")), rows.push(row), (row = []), (field = "");
    else field += c;
  }
  return rows;
}

describe("run store (DIR/ptalign.db)", () => {
  it("WAL, and one row per (run, run index, step): writing a step again replaces it", async () => {
    const dir = await tempDir();
    const store = await openStore(dir, { write: true });
    const target = { support: ["a", "b"], probs: [0.5, 0.5] };
    await store.beginRun({ id: "r1", model: "m", protocol: "sequential", target, settings: { steps: 2, runs: 1 } });
    await store.addStep("r1", 0, 1, { t: 0, ptoken: [0.5, 0.5], leak: 0, sample: "a" });
    await store.addStep("r1", 0, 1, { t: 0, ptoken: [0.25, 0.75], leak: 0.1, sample: "b" });
    await store.addStep("r1", 0, 1, { t: 1, ptoken: [1, 0], leak: 0, sample: "a", raw: "x", unknown: 0.01 });
    assert.equal(await store.totalSteps(), 2);
    assert.deepEqual(await store.runsOf("r1"), [{ seed: 1, steps: [{ t: 0, ptoken: [0.25, 0.75], leak: 0.1, sample: "b" }, { t: 1, ptoken: [1, 0], leak: 0, sample: "a", raw: "x", unknown: 0.01 }] }]);
    await store.close();
    // The store's SQL, checked on the file itself (callers never see it).
    const db = new Database(join(dir, "ptalign.db"));
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.throws(() => db.prepare("INSERT INTO steps (run_id, run_index, seed, t, ptoken, leak) VALUES ('r1', 0, 1, 1, '[]', 0)").run(), /UNIQUE|PRIMARY KEY/);
    db.close();
  });

  it("ptalign run writes its steps to the store and its JSON file; ls lists it; export gives CSV and JSON Lines", async () => {
    const dir = await tempDir();
    const out = join(dir, "res");
    const res = await ptalign(["run", "--model", "sim:d", "--target", "{a:0.5,\"b,c\":0.5}", "--steps", "6", "--runs", "2", "--out", out, "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    const files = await readdir(join(out, "runs"));
    assert.deepEqual(files, [`${result.id}.json`]);

    const db = new Database(join(out, "ptalign.db"), { readonly: true });
    const row = db.prepare("SELECT id, model, protocol, status, metrics FROM runs").get() as { id: string; status: string; metrics: string };
    assert.equal(row.id, result.id);
    assert.equal(row.status, "done");
    assert.deepEqual(JSON.parse(row.metrics), result.metrics);
    assert.equal((db.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n, 12);
    db.close();

    const ls = await ptalign(["ls", out]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`^${result.id}\\s+done\\s+sim:d\\s+`, "m"));

    const csv = await ptalign(["export", out, "--format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parseCsv(csv.stdout);
    assert.equal(rows.length, 1 + 12);
    const header = rows[0]!;
    const at = (r: string[], k: string) => r[header.indexOf(k)]!;
    assert.deepEqual(JSON.parse(at(rows[1]!, "support")), ["a", "b,c"]);
    assert.deepEqual(JSON.parse(at(rows[1]!, "ptoken")), result.runs[0]!.steps[0]!.ptoken);
    assert.equal(at(rows[2]!, "t"), "1");
    assert.equal(at(rows[1]!, "sample"), result.runs[0]!.steps[0]!.sample);

    const jsonl = await ptalign(["export", out, "--format", "jsonl", "--level", "runs"]);
    const lines = jsonl.stdout.trim().split("\n").map((l) => JSON.parse(l) as Result);
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0]!.metrics, result.metrics);
    assert.deepEqual(lines[0]!.runs, result.runs);

    const steps = await ptalign(["export", out, "--format", "jsonl", "--out", join(dir, "steps.jsonl")]);
    assert.equal(steps.code, 0, steps.stderr);
    assert.equal((await readFile(join(dir, "steps.jsonl"), "utf8")).trim().split("\n").length, 12);
  });

  it("CSV fields are quoted when needed", () => {
    assert.equal(csvField('a,"b"'), '"a,""b"""');
    assert.equal(csvField("x\ny"), '"x\ny"');
    assert.equal(csvField(null), "");
    assert.equal(csvField([1, 2]), '"[1,2]"');
  });

  it("ls / report on a directory that is not a results directory: one line, exit 2", async () => {
    const dir = await tempDir();
    for (const cmd of ["ls", "report"]) {
      const res = await ptalign([cmd, join(dir, "nothing")]);
      assert.equal(res.code, 2, `${cmd}: ${res.stderr}`);
      assert.match(res.stderr, /^ptalign: results directory .*nothing does not exist/);
    }
  });

  it("ptalign view binds 127.0.0.1 unless --host is given", async () => {
    const dir = await tempDir();
    await ptalign(["run", "--model", "sim:e", "--target", "extreme", "--steps", "3", "--runs", "2", "--out", dir]);
    const child = spawn(process.execPath, [BIN, "view", dir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = "";
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          if (buf.includes("\n")) resolve(buf);
        });
        child.on("exit", () => reject(new Error(`view exited early`)));
      });
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)?.[0];
      assert.ok(url, line);
      const page = await (await fetch(url)).text();
      assert.match(page, /data-chart="scatter"/);
      assert.match(page, /fetch\("\/version"/);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
