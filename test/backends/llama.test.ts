import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadLlamaBackend } from "../../src/backends/index.ts";
import { eLikeSpec, writeBigramModel } from "../../src/synth/index.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const CHATML = `{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}`;
const prompt = { user: "Draw samples.", prefill: "Samples:" };

describe("llama backend", () => {
  it("applies the model's chat template, leaving the model's turn open after the prefill; --raw skips it", async () => {
    const path = join(await tempDir(), "chat.gguf");
    await writeBigramModel(path, { ...eLikeSpec(), chatTemplate: CHATML });
    const templated = await loadLlamaBackend(path);
    try {
      assert.equal(templated.templated, true);
      const text = templated.renderPrompt(prompt);
      assert.match(text, /<\|im_start\|>user\nDraw samples\.<\|im_end\|>\n<\|im_start\|>assistant\nSamples:$/);
    } finally {
      await templated.close();
    }
    const raw = await loadLlamaBackend(path, { raw: true });
    try {
      assert.equal(raw.templated, false);
      assert.equal(raw.renderPrompt(prompt), "Draw samples.\nSamples:");
      assert.equal(raw.encodePrompt(prompt)[0], 1); // BOS first
    } finally {
      await raw.close();
    }
  });

  it("a model without a template is fed the plain prompt", async () => {
    const path = join(await tempDir(), "plain.gguf");
    await writeBigramModel(path, eLikeSpec());
    const backend = await loadLlamaBackend(path);
    try {
      assert.equal(backend.templated, false);
    } finally {
      await backend.close();
    }
  });

  it("hf: models go through node-llama-cpp's resolver; without network the error says so in one line (exit 1)", async () => {
    const res = await ptalign(["run", "--model", "hf:ptalign-test/does-not-exist-GGUF:Q4_K_M", "--target", "extreme", "--no-save"], {
      env: { HOME: await tempDir(), HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9", NODE_LLAMA_CPP_MODELS_DIR: await tempDir() },
    });
    assert.equal(res.code, 1, res.stderr);
    assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
    assert.match(res.stderr, /could not fetch hf:ptalign-test\/does-not-exist-GGUF:Q4_K_M .*need network access/);
  });
});
