// Issue 20, item 3: no credential reaches a message, whatever form the server quotes it in.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { redactor } from "../../src/backends/remote/redact.ts";
import { ptalign } from "../support/cli.ts";
import { startFakeServer, type FakeServer } from "../remote/fakeServer.ts";

const PASSWORD = "Pa55w0rdXYZ";
const KEY = "sk-live-ABCDEF123456";

describe("redaction of credentials", () => {
  const redact = redactor({ apiKey: KEY, baseUrl: `http://alice:${encodeURIComponent("Pa55/w0rd XYZ")}@127.0.0.1:1/v1` });
  const forms: [string, string][] = [
    ["the raw key", `key ${KEY} rejected`],
    ["the key as Bearer", `bad auth header: Bearer ${KEY}`],
    ["the key in base64", `seen ${Buffer.from(KEY).toString("base64")}`],
    ["the password raw", "password Pa55/w0rd XYZ is wrong"],
    ["the password percent-encoded", `password ${encodeURIComponent("Pa55/w0rd XYZ")}`],
    ["the userinfo as Basic", `bad auth header: Basic ${Buffer.from("alice:Pa55/w0rd XYZ").toString("base64")}`],
    ["the userinfo in base64 without the Basic word", `got ${Buffer.from("alice:Pa55/w0rd XYZ").toString("base64")}`],
    ["the userinfo in a quoted URL", "GET http://alice:whatever@127.0.0.1:1/v1 failed"],
    ["a Bearer token we did not send", "upstream said Bearer zzzzOTHERzzzz"],
  ];
  for (const [name, text] of forms) {
    it(`hides ${name}`, () => {
      const out = redact(text);
      assert.match(out, /\*\*\*/);
      for (const secret of [KEY, "Pa55/w0rd XYZ", encodeURIComponent("Pa55/w0rd XYZ"), "whatever", "zzzzOTHERzzzz", Buffer.from(KEY).toString("base64"), Buffer.from("alice:Pa55/w0rd XYZ").toString("base64")]) {
        assert.ok(!out.includes(secret), `${out} shows ${secret}`);
      }
    });
  }
  it("leaves ordinary text alone", () => assert.equal(redact("HTTP 500: model m is overloaded"), "HTTP 500: model m is overloaded"));
});

describe("redaction through the CLI (loopback server quoting the Authorization header)", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("vllm");
    srv.fault = (_n, req, res) => {
      res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `bad auth header: ${req.headers.authorization} from ${req.headers.host}` } }));
      return true;
    };
  });
  after(() => srv.close());
  const run = (baseUrl: string, env: NodeJS.ProcessEnv = {}) =>
    ptalign(["run", "--model", "openai:m", "--base-url", baseUrl, "--scoring", "top-k", "--target", "{1:0.5,2:0.5}", "--steps", "2", "--no-save", "--no-cache", "--retries", "0"], { env: { PTALIGN_RETRY_BASE_MS: "5", OPENAI_API_KEY: "", OPENAI_BASE_URL: "", ...env } });

  it("a password in --base-url: never shown, in no form (was: Basic YWxpY2U6UGE1NXcwcmRYWVo=)", async () => {
    const res = await run(srv.url.replace("http://", `http://alice:${PASSWORD}@`));
    assert.equal(res.code, 1, res.stderr);
    const all = res.stdout + res.stderr;
    assert.match(res.stderr, /Basic \*\*\*/);
    for (const secret of [PASSWORD, Buffer.from(`alice:${PASSWORD}`).toString("base64")]) assert.ok(!all.includes(secret), all);
    assert.doesNotMatch(all, /internal error|\n\s+at /);
  });

  it("an API key: never shown", async () => {
    const res = await run(srv.url, { OPENAI_API_KEY: KEY });
    assert.equal(res.code, 1, res.stderr);
    assert.ok(!(res.stdout + res.stderr).includes(KEY));
    assert.match(res.stderr, /Bearer \*\*\*/);
  });
});
