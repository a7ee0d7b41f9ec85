import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scanNativeProbs, scanTopLogprobs } from "../../src/backends/remote/fullVocab.ts";
import { parseNativeProbs } from "../../src/backends/remote/shapes.ts";
import { makeRng } from "../../src/rng.ts";

/** The reference: JSON.parse + the checked reader, as a Map in the server's order. */
const reference = (text: string) => [...parseNativeProbs(JSON.parse(text), "srv")];
const scanned = (text: string, nVocab: number) => {
  const got = scanNativeProbs(Buffer.from(text, "utf8"), nVocab);
  return got && [...got];
};

/** A llama-server /completion body: entries {id, token, bytes, logprob} sorted by probability, like the real one. */
function body(n: number, rand: () => number, o: { space?: number; extra?: boolean; nulls?: boolean } = {}) {
  const pieces = ["a", " the", "\"", "\\", "é", "\n", "\t", "\u0001", "日本", "<|im_end|>", "\ud83d\ude00", "/", ""];
  const entries = Array.from({ length: n }, (_, id) => {
    const token = pieces[Math.floor(rand() * pieces.length)]! + (rand() < 0.5 ? String(id) : "");
    // − log n keeps the listed mass ≤ 1: a body that is not a distribution is refused (issue 20, item 5).
    const logprob = o.nulls && rand() < 0.05 ? null : rand() < 0.05 ? -3.4028234663852886e38 : Math.fround(-20 * rand() * rand() - Math.log(n));
    const e: Record<string, unknown> = { id, token, bytes: [...Buffer.from(token, "utf8")], logprob };
    if (o.extra && rand() < 0.3) e.note = { nested: [1, "x", null, true, false, -0.5e-3] };
    // Key order varies: readers must not depend on it.
    return rand() < 0.5 ? e : Object.fromEntries(Object.entries(e).reverse());
  });
  entries.sort((a, b) => ((b.logprob as number | null) ?? -Infinity) - ((a.logprob as number | null) ?? -Infinity));
  const top = entries[0]!;
  return JSON.stringify(
    {
      index: 0,
      content: top.token,
      prompt: 'text that mentions "completion_probabilities":[{"top_logprobs":[{"id":0,"logprob":0}]}] inside a string',
      generation_settings: { n_probs: n, samplers: ["top_k", "temperature"], temperature: 1, stop: [] },
      completion_probabilities: [{ id: top.id, token: top.token, bytes: top.bytes, logprob: top.logprob, top_logprobs: entries }, { id: 1, token: "x", bytes: [120], logprob: -1, top_logprobs: [] }],
      timings: { prompt_ms: 1.5, predicted_per_second: 1e3 },
    },
    null,
    o.space,
  );
}

describe("full-vocabulary /completion answers read from their bytes", () => {
  it("gives exactly what JSON.parse + parseNativeProbs give, in the same order, on varied bodies", () => {
    const rand = makeRng(7);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + Math.floor(rand() * 300);
      const text = body(n, rand, { space: trial % 4 === 0 ? 2 : undefined, extra: trial % 3 === 0, nulls: trial % 2 === 0 });
      assert.deepEqual(scanned(text, n), reference(text), `trial ${trial}`);
    }
  });

  // Was "the last entry counts, as with JSON.parse into a Map": a token listed twice is a server fault (issue 20, item 5).
  it("an id listed twice: left to the checked reader, which refuses it", () => {
    const text = JSON.stringify({ completion_probabilities: [{ top_logprobs: [{ id: 1, logprob: -1 }, { id: 0, logprob: -2 }, { id: 1, logprob: -3 }] }] });
    assert.equal(scanned(text, 2), null);
    assert.throws(() => reference(text), /token "" \(id 1\) listed twice/);
  });

  it("anything else is left to the schemas (null): other shapes, bad ids, broken JSON", () => {
    const ok = { completion_probabilities: [{ top_logprobs: [{ id: 0, token: "a", bytes: [97], logprob: -0.5 }] }] };
    assert.ok(scanned(JSON.stringify(ok), 1));
    const cases: [string, string][] = [
      ["post-sampling top_probs", JSON.stringify({ completion_probabilities: [{ top_probs: [{ id: 0, prob: 0.5 }] }] })],
      ["old probs shape", JSON.stringify({ completion_probabilities: [{ probs: [{ tok_str: "a", prob: 0.5 }] }] })],
      ["no completion_probabilities", JSON.stringify({ content: "a" })],
      ["no id", JSON.stringify({ completion_probabilities: [{ top_logprobs: [{ token: "a", logprob: -1 }] }] })],
      ["no logprob", JSON.stringify({ completion_probabilities: [{ top_logprobs: [{ id: 0 }] }] })],
      ["id out of the vocabulary", JSON.stringify({ completion_probabilities: [{ top_logprobs: [{ id: 1, logprob: -1 }] }] })],
      ["negative id", JSON.stringify({ completion_probabilities: [{ top_logprobs: [{ id: -1, logprob: -1 }] }] })],
      ["id written 0.0", '{"completion_probabilities":[{"top_logprobs":[{"id":0.0,"logprob":-1}]}]}'],
      ["logprob a string", '{"completion_probabilities":[{"top_logprobs":[{"id":0,"logprob":"-1"}]}]}'],
      ["cut short", JSON.stringify(ok).slice(0, -3)],
      ["trailing garbage", `${JSON.stringify(ok)}x`],
      ["raw control character in a string", '{"completion_probabilities":[{"top_logprobs":[{"id":0,"token":"a\u0001","logprob":-1}]}]}'],
      ["bad escape", '{"completion_probabilities":[{"top_logprobs":[{"id":0,"token":"\\q","logprob":-1}]}]}'],
      ["number with a leading zero", '{"completion_probabilities":[{"top_logprobs":[{"id":0,"logprob":-01}]}]}'],
      ["missing comma", '{"completion_probabilities":[{"top_logprobs":[{"id":0 "logprob":-1}]}]}'],
      ["not an object", "[1,2]"],
      ["empty", ""],
    ];
    for (const [what, text] of cases) assert.equal(scanned(text, 1), null, what);
  });
});

describe("scanTopLogprobs", () => {
  it("keeps the server's order and writes null as -Infinity", () => {
    const got = scanTopLogprobs(Buffer.from('{"completion_probabilities":[{"top_logprobs":[{"id":2,"logprob":-0.25},{"id":0,"logprob":null},{"id":1,"logprob":-1e2}]}]}'), 3);
    assert.deepEqual([...got!.ids], [2, 0, 1]);
    assert.deepEqual([...got!.logprobs], [-0.25, -Infinity, -100]);
  });
});
