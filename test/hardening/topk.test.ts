// Issue 20, item 5: a server answer that is not (part of) a distribution is refused in one line, exit 1.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { scanNativeProbs } from "../../src/backends/remote/fullVocab.ts";
import { parseFirstAlternatives, parseNativeProbs } from "../../src/backends/remote/shapes.ts";
import { RunError } from "../../src/errors.ts";
import { ptalign } from "../support/cli.ts";
import { startFakeServer, type FakeServer } from "../remote/fakeServer.ts";

const content = (tops: { token: string; logprob: number | null }[]) => ({ choices: [{ logprobs: { content: [{ token: tops[0]?.token ?? "", logprob: tops[0]?.logprob ?? 0, top_logprobs: tops }] } }] });
const native = (tops: { id: number; logprob: number }[]) => ({ completion_probabilities: [{ top_logprobs: tops.map((t) => ({ ...t, token: String(t.id), bytes: [48 + (t.id % 10)] })) }] });

const BAD: [string, unknown, RegExp][] = [
  ["log-probabilities above 0", content([{ token: " 1", logprob: 2 }, { token: " 2", logprob: 1 }]), /log-probability 2 > 0 for token " 1"/],
  ["a token listed twice", content([{ token: " 1", logprob: Math.log(0.7) }, { token: " 1", logprob: Math.log(0.7) }]), /token " 1" listed twice/],
  ["a visible mass above 1", content([{ token: " 1", logprob: Math.log(0.7) }, { token: " 2", logprob: Math.log(0.7) }]), /sum to 1\.4 > 1/],
];

describe("impossible top-k answers (parsers)", () => {
  for (const [name, body, why] of BAD) {
    it(`refuses ${name}`, () => assert.throws(() => parseFirstAlternatives(body, "http://srv"), (e: unknown) => e instanceof RunError && /^http:\/\/srv answered with next-token probabilities that are not a distribution/.test(e.message) && why.test(e.message)));
  }
  it("accepts float32 rounding (a certain token at logprob 1e-7, a mass of 1.00001)", () => {
    assert.equal(parseFirstAlternatives(content([{ token: " 1", logprob: 1e-7 }]), "s").length, 1);
    assert.equal(parseFirstAlternatives(content([{ token: " 1", logprob: Math.log(0.50001) }, { token: " 2", logprob: Math.log(0.5) }]), "s").length, 2);
    assert.equal(parseFirstAlternatives(content([{ token: " 1", logprob: null }]), "s").length, 1);
  });
  it("llama-server full vocabulary: a duplicate id or a probability above 1 is refused on the fast paths too", () => {
    const dup = native([{ id: 3, logprob: Math.log(0.6) }, { id: 3, logprob: Math.log(0.6) }]);
    assert.equal(scanNativeProbs(Buffer.from(JSON.stringify(dup)), 10), null);
    assert.throws(() => parseNativeProbs(dup, "srv"), /token "3" \(id 3\) listed twice/);
    const above = native([{ id: 1, logprob: 0.5 }]);
    assert.equal(scanNativeProbs(Buffer.from(JSON.stringify(above)), 10), null);
    assert.throws(() => parseNativeProbs(above, "srv"), /log-probability 0\.5 > 0/);
    const fine = native([{ id: 1, logprob: Math.log(0.6) }, { id: 2, logprob: Math.log(0.4) }]);
    assert.equal(scanNativeProbs(Buffer.from(JSON.stringify(fine)), 10)?.size, 2);
  });
});

describe("impossible top-k answers through the CLI (loopback server)", () => {
  let srv: FakeServer;
  let answer: unknown;
  before(async () => {
    srv = await startFakeServer("openai");
    srv.fault = (_n, req, res) => {
      if (req.method !== "POST") return false;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      return true;
    };
  });
  after(() => srv.close());
  for (const [name, body, why] of BAD) {
    it(`${name}: one line, exit 1`, async () => {
      answer = body;
      const res = await ptalign(["run", "--model", "openai:m", "--base-url", srv.url, "--scoring", "top-k", "--target", "{1:0.5,2:0.5}", "--steps", "2", "--no-save", "--no-cache"], { env: { OPENAI_API_KEY: "", OPENAI_BASE_URL: "" } });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, why);
      assert.match(res.stderr, /not a distribution/);
      assert.doesNotMatch(res.stderr, /internal error|\n\s+at /);
      assert.equal(res.stderr.trim().split("\n").filter((l) => !/^ptalign: warning/.test(l)).length, 1, res.stderr);
    });
  }
});
