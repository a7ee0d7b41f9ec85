import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadLlamaBackend, type TokenBackend } from "../../src/backends/index.ts";
import { optionTexts, scoreOptions } from "../../src/scoring/index.ts";
import { DELIMITER, SEPARATOR } from "../../src/protocols/index.ts";
import { MULTI_TOKEN_LEAK, MULTI_TOKEN_RAW, writeMultiTokenModel } from "../support/models.ts";
import { tempDir } from "../support/tmp.ts";

const support = Array.from({ length: 12 }, (_, i) => String(i + 1));

describe("exact option scoring on a generated model", () => {
  let backend: TokenBackend;
  let prompt: number[];
  before(async () => {
    backend = await loadLlamaBackend(await writeMultiTokenModel(await tempDir()));
    prompt = backend.encodePrompt({ user: "Draw samples.", prefill: "Samples:" });
  });
  after(() => backend.close());

  it("sums the chain rule over every tokenisation, delimiter included, and reports the leak", async () => {
    const texts = optionTexts(support, SEPARATOR, DELIMITER);
    const scored = await scoreOptions(backend, prompt, texts, { temperature: 1, prune: 0 });
    support.forEach((answer, i) => assert.ok(Math.abs(scored.raw[i]! - (MULTI_TOKEN_RAW[answer] ?? 0)) < 1e-4, `P(${answer}) = ${scored.raw[i]}`));
    assert.ok(Math.abs(scored.leak - MULTI_TOKEN_LEAK) < 1e-4, `leak ${scored.leak}`);
    assert.equal(scored.unknown, 0);
  });

  it("appends the most probable exact path of an answer", async () => {
    const texts = optionTexts(support, SEPARATOR, DELIMITER);
    const scored = await scoreOptions(backend, prompt, texts, { temperature: 1, prune: 0 });
    const bytes = (path: number[] | null) => path!.map((t) => backend.vocab.bytes(t));
    assert.deepEqual(bytes(scored.paths[0]!), [" 1", ","]); // .20 beats the ▁ 1 , path (.03)
    assert.deepEqual(bytes(scored.paths[11]!), [" 1", "2", ","]); // .05 beats ▁ 1 2 , (.02)
  });

  it("applies temperature per token: p^(1/T) renormalised over the whole vocabulary", async () => {
    const texts = optionTexts(["2"], SEPARATOR, DELIMITER);
    const scored = await scoreOptions(backend, prompt, texts, { temperature: 0.5, prune: 0 });
    // At T = 0.5 the first token's row (.5,.2,.1,.1,.1) squares to (.25,.04,.01,.01,.01)/.32.
    // " 2," = ▁2 (.04/.32) × "," (1) + ▁ (.01/.32) × 2 (.25/.5 = .5) × "," (1) = .125 + .015625
    assert.ok(Math.abs(scored.raw[0]! - (0.04 / 0.32 + (0.01 / 0.32) * 0.5)) < 1e-4, String(scored.raw[0]));
  });

  it("prunes paths below the threshold and bounds what it did not expand", async () => {
    const texts = optionTexts(support, SEPARATOR, DELIMITER);
    const scored = await scoreOptions(backend, prompt, texts, { temperature: 1, prune: 0.19 });
    // ▁5 (.1) and ▁ (.1) are below .19 and not expanded; ▁1 (.5) and ▁2 (.2) are, but below ▁1 the paths
    // ▁1 0 (.15), ▁1 1 (.1), ▁1 2 (.05) are pruned: unknown = .1 + .1 + .15 + .1 + .05 = .5.
    assert.ok(Math.abs(scored.unknown - 0.5) < 1e-4, `unknown ${scored.unknown}`);
    assert.ok(Math.abs(scored.raw[0]! - 0.2) < 1e-4);
  });
});
