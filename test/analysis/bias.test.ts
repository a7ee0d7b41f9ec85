import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { optionTexts, scoreOptions } from "../../src/scoring/index.ts";
import { answerTokenBias, DELIMITER, SEPARATOR } from "../../src/protocols/index.ts";
import { writeMultiTokenModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const support = ["1", "2", "5", "10", "11", "12"];

describe("logit bias on the first distinguishing token", () => {
  let backend: TokenBackend;
  let prompt: number[];
  before(async () => {
    backend = await loadLlamaBackend(await writeMultiTokenModel(await tempDir()));
    prompt = backend.encodePrompt({ user: "Draw samples.", prefill: "Samples:" });
  });
  after(() => backend.close());

  it("picks, in every spelling of an answer, the token where it leaves the others' (\"1\" → \",\", \"10\" → \"0\", \"2\" → \"▁2\" and, in ▁ + 2, \"2\")", () => {
    const texts = optionTexts(support, SEPARATOR, DELIMITER);
    const bias = answerTokenBias(backend, support, texts, { "1": 1, "2": 2, "10": 3 });
    const byText = Object.fromEntries([...bias].map(([tok, b]) => [backend.vocab.bytes(tok), b]));
    assert.deepEqual(byText, { ",": 1, " 2": 2, "2": 2, "0": 3 });
  });

  it("multiplies the biased token's probability by exp(b) and renormalises over the vocabulary, before temperature", async () => {
    const texts = optionTexts(support, SEPARATOR, DELIMITER);
    const bias = answerTokenBias(backend, support, texts, { "2": Math.log(2) });
    const scored = await scoreOptions(backend, prompt, texts, { temperature: 1, prune: 0, bias });
    // Both spellings of " 2," carry the bias: root row ▁1 .5, ▁2 .2→.4, ▁5 .1, ▁ .1, x .1 over 1.2; after "▁" the row
    // 1 .5, 2 .5→1 over 1.5. " 2," = .4/1.2 + (.1/1.2)·(1/1.5) = .38889
    assert.ok(Math.abs(scored.raw[1]! - (0.4 / 1.2 + (0.1 / 1.2) * (1 / 1.5))) < 1e-4, `P(2) = ${scored.raw[1]}`);
    // The bias is context-free: token "2" is biased wherever it follows, also after "▁1" (row , .4 0 .3 1 .2 2 .1→.2
    // over 1.1) and after "1" (row , .6 2 .4→.8 over 1.4). " 1," = (.5/1.2)·(.4/1.1) + (.1/1.2)·(.5/1.5)·(.6/1.4)
    assert.ok(Math.abs(scored.raw[0]! - ((0.5 / 1.2) * (0.4 / 1.1) + (0.1 / 1.2) * (0.5 / 1.5) * (0.6 / 1.4))) < 1e-4, `P(1) = ${scored.raw[0]}`);
  });
});
