import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { eLikeSpec, writeBigramModel } from "../../src/synth/index.ts";
import type { Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("prompt templates", () => {
  it("--prompt-file replaces the prompt; --show-prompt prints it as the model sees it", async () => {
    const dir = await tempDir();
    const model = join(dir, "e.gguf");
    await writeBigramModel(model, eLikeSpec());
    const file = join(dir, "prompt.txt");
    await writeFile(file, "Pick from {{support}} with {{distribution}}, {{steps}} times.\n---prefill---\nMy picks:\n");
    const shown = await ptalign(["run", "--model", model, "--target", "{1:0.25,2:0.75}", "--steps", "3", "--prompt-file", file, "--show-prompt"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, 'Pick from 1, 2 with "1" with probability 0.25, "2" with probability 0.75, 3 times.\nMy picks:\n');

    const res = await ptalign(["run", "--model", model, "--target", "{1:0.25,2:0.75}", "--steps", "3", "--runs", "1", "--prompt-file", file, "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    assert.deepEqual(result.settings?.prompt, { user: 'Pick from 1, 2 with "1" with probability 0.25, "2" with probability 0.75, 3 times.', prefill: "My picks:" });
  });

  it("an unknown placeholder is bad input", async () => {
    const dir = await tempDir();
    const file = join(dir, "prompt.txt");
    await writeFile(file, "Sample {{distrib}}");
    const res = await ptalign(["run", "--model", "sim:e", "--target", "extreme", "--prompt-file", file, "--no-save"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown placeholder \{\{distrib\}\}; known: \{\{distribution\}\}/);
  });
});
