// Issue 20, item 9: size caps. A huge server answer and a gzip bomb are refused in one line naming the limit,
// and the process's peak RSS stays bounded. The large bodies are generated chunk by chunk: the test never holds them.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGzip } from "node:zlib";
import { ptalign, type CliResult } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const MB = 1024 * 1024;

/** Runs the CLI with a preload that prints the process's peak RSS (MB) on stderr at exit. */
async function measured(args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<CliResult & { peakMb: number }> {
  const preload = join(dir, "peak-rss.cjs");
  await writeFile(preload, `process.on("exit", () => require("node:fs").writeSync(2, "\\nPEAK_RSS_KB " + process.resourceUsage().maxRSS + "\\n"));\n`);
  const res = await ptalign(args, { child: "the peak RSS of the CLI process is measured", env: { OPENAI_API_KEY: "", OPENAI_BASE_URL: "", PTALIGN_RETRY_BASE_MS: "5", NODE_OPTIONS: `--require ${preload}`, ...env } });
  const kb = Number(/PEAK_RSS_KB (\d+)/.exec(res.stderr)?.[1] ?? NaN);
  return { ...res, stderr: res.stderr.replace(/\n?PEAK_RSS_KB \d+\n/, ""), peakMb: kb / 1024 };
}

const clean = (res: CliResult) => {
  assert.doesNotMatch(res.stderr, /internal error|\n\s+at |0x1fffffe8/);
  assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
};

describe("size caps", () => {
  let server: Server;
  let url: string;
  let dir: string;
  let sent = 0;
  let declare = false;
  before(async () => {
    dir = await tempDir();
    // Answers every POST with an endless 200 body of 1 MB chunks (with backpressure) until the client hangs up.
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.method !== "POST") return void res.writeHead(404).end();
        res.writeHead(200, { "content-type": "application/json", ...(declare ? { "content-length": String(600 * MB) } : {}) });
        const chunk = Buffer.alloc(MB, 0x20);
        res.write("{\"choices\":[");
        const pump = () => {
          while (!res.destroyed && sent < 2048 * MB) {
            sent += MB;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.on("close", () => undefined);
        pump();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const run = ["run", "--model", "openai:m", "--scoring", "top-k", "--target", "{1:0.5,2:0.5}", "--steps", "1", "--runs", "1", "--no-save", "--no-cache", "--retries", "0"];

  it("an endless answer: refused at the default limit (128 MB), exit 1, peak RSS bounded (was: internal error after 1.37 GB)", async (t) => {
    sent = 0;
    const res = await measured([...run, "--base-url", url], {}, dir);
    t.diagnostic(`peak RSS ${Math.round(res.peakMb)} MB; server sent ${sent / MB} MB before the client hung up`);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /sent an answer larger than 128 MB, the response limit; .*PTALIGN_MAX_RESPONSE_MB/);
    clean(res);
    assert.ok(res.peakMb < 450, `peak RSS ${res.peakMb} MB`);
  });

  it("PTALIGN_MAX_RESPONSE_MB lowers the limit; a declared Content-Length over it is refused before reading", async (t) => {
    sent = 0;
    const low = await measured([...run, "--base-url", url], { PTALIGN_MAX_RESPONSE_MB: "8" }, dir);
    t.diagnostic(`peak RSS ${Math.round(low.peakMb)} MB`);
    assert.equal(low.code, 1, low.stderr);
    assert.match(low.stderr, /larger than 8 MB/);
    clean(low);
    assert.ok(low.peakMb < 250, `peak RSS ${low.peakMb} MB`);
    declare = true;
    try {
      const early = await measured([...run, "--base-url", url], { PTALIGN_MAX_RESPONSE_MB: "8" }, dir);
      assert.equal(early.code, 1, early.stderr);
      assert.match(early.stderr, /larger than 8 MB/);
    } finally {
      declare = false;
    }
    const bad = await measured([...run, "--base-url", url], { PTALIGN_MAX_RESPONSE_MB: "lots" }, dir);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /PTALIGN_MAX_RESPONSE_MB=lots is not a size/);
  });

  it("a .jsonl.gz that inflates past the input limit: exit 2 naming the limit, peak RSS bounded (was: internal error after 2.2 GB)", async (t) => {
    // 320 MB of one repeated line (past the 256 MB limit), gzipped chunk by chunk (about 1 MB on disk; level 1 is
    // 10× faster to write than 9 and inflates the same).
    const bomb = join(dir, "bomb.jsonl.gz");
    const gz = createGzip({ level: 1 });
    const out = gz.pipe(createWriteStream(bomb));
    const line = Buffer.alloc(MB, 0x20);
    for (let i = 0; i < 320; i++) if (!gz.write(line)) await once(gz, "drain");
    gz.end();
    await once(out, "close");
    const res = await measured(["task", "codegen", "--model", "sim:e", "--problems", bomb, "--n", "1", "--dry-run"], {}, dir);
    t.diagnostic(`peak RSS ${Math.round(res.peakMb)} MB`);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /bomb\.jsonl\.gz: its gzip data inflates to larger than 256 MB, the input limit; raise it with PTALIGN_MAX_INPUT_MB/);
    clean(res);
    assert.ok(res.peakMb < 600, `peak RSS ${res.peakMb} MB`);
  });
});
