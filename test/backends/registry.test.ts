import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BACKENDS, modelSpecHelp, openModel, parseModelSpec, rebaseModelSpec } from "../../src/backends/index.ts";
import { InputError } from "../../src/errors.ts";

describe("the MODEL spec table", () => {
  it("names the backend of each spec form; a prefix wins over the .gguf suffix", () => {
    const name = (s: string) => parseModelSpec(s).backend.name;
    assert.deepEqual(["m.gguf", "M.GGUF", "gguf:m.bin", "hf:u/r:Q4", "openai:x", "sim:d", "openai:x.gguf", "sim:e?noise=0"].map(name), ["gguf-file", "gguf-file", "gguf", "hf", "openai", "sim", "openai", "sim"]);
    assert.equal(parseModelSpec("gguf:dir/m.gguf").file, "dir/m.gguf");
    assert.equal(parseModelSpec("dir/m.gguf").file, "dir/m.gguf");
    assert.equal(parseModelSpec("hf:u/r").file, undefined);
  });
  it("the unknown-spec error and help list the grammar from the table", async () => {
    assert.equal(modelSpecHelp(), "a path ending .gguf, gguf:PATH, hf:USER/REPO[:QUANT], openai:MODEL or sim:d|e|collapsed");
    assert.equal(BACKENDS.length, 5);
    assert.throws(() => parseModelSpec("llama3"), (e: Error) => e instanceof InputError && e.message === `unknown model spec "llama3": expected ${modelSpecHelp()}`);
    await assert.rejects(openModel("llama3"), /^InputError: unknown model spec "llama3"/);
    assert.throws(() => parseModelSpec("sim:q"), /unknown sim family "q"/);
  });
  it("rebases the model file a spec names, and only that", () => {
    const at = (f: string) => `/base/${f}`;
    assert.deepEqual(["m.gguf", "gguf:m.gguf", "hf:u/r", "sim:d"].map((s) => rebaseModelSpec(s, at)), ["/base/m.gguf", "gguf:/base/m.gguf", "hf:u/r", "sim:d"]);
  });
  it("sim models declare their kind and capabilities", async () => {
    const m = await openModel("sim:d");
    assert.equal(m.kind, "sim");
    assert.deepEqual(m.capabilities.protocols, ["sequential", "independent", "batch"]);
  });
});
