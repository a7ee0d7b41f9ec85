import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { eLikeSpec, writeBigramModel } from "../../src/synth/index.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

interface Out { bias: Record<string, number>; iterations: { marginal_tvd: number }[]; before: { marginal_tvd: number; atvd: number; volatility: number }; after: { marginal_tvd: number; atvd: number; volatility: number }; note: string }

describe("ptalign correct / run --logit-bias", () => {
  it("a generated model whose mean P_token is uniform (target extreme) reaches marginal_tvd < 0.02, verified by a re-run", async () => {
    const dir = await tempDir();
    const model = join(dir, "uniform.gguf");
    const info = await writeBigramModel(model, eLikeSpec({ support: ["1", "2", "3", "4"], probs: [0.25, 0.25, 0.25, 0.25] }, "uniform"));
    const biasFile = join(dir, "bias.json");
    const c = await ptalign(["correct", "--model", model, "--target", "extreme", "--steps", "6", "--runs", "2", "--max-iterations", "5", "--bias-out", biasFile, "--out", join(dir, "res"), "--json"]);
    assert.equal(c.code, 0, c.stderr);
    const out = JSON.parse(c.stdout) as Out;
    assert.ok(out.before.marginal_tvd > 0.4, JSON.stringify(out.before));
    assert.ok(out.after.marginal_tvd < 0.02, JSON.stringify(out.after));
    assert.ok(out.iterations.length <= 5);
    assert.match(out.note, /first distinguishing token/);
    const file = JSON.parse(await readFile(biasFile, "utf8")) as { bias: Record<string, number>; logit_bias: Record<string, number> };
    assert.deepEqual(Object.keys(file.bias), ["1", "2", "3", "4"]);
    // The API form (`logit_bias`: token id → bias): here each answer's first token "▁a" already tells it apart.
    assert.deepEqual(file.logit_bias, Object.fromEntries(["1", "2", "3", "4"].map((a) => [String(info.ids[`▁${a}`]), out.bias[a]])));
    const r = await ptalign(["run", "--model", model, "--target", "extreme", "--steps", "6", "--runs", "2", "--seed", "9", "--logit-bias", biasFile, "--no-save", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { metrics: { marginal_tvd: number }; settings: { logitBias: Record<string, number> } };
    assert.ok(res.metrics.marginal_tvd < 0.02, `re-run marginal_tvd ${res.metrics.marginal_tvd}`);
    assert.deepEqual(res.settings.logitBias, out.bias);
  });

  it("sim models take the bias on q directly; a bad bias file is exit 2", async () => {
    const dir = await tempDir();
    const c = await ptalign(["correct", "--model", "sim:collapsed", "--target", "extreme", "--steps", "20", "--runs", "2", "--no-save", "--json"]);
    assert.equal(c.code, 0, c.stderr);
    const out = JSON.parse(c.stdout) as Out;
    assert.ok(out.before.marginal_tvd > 0.5 && out.after.marginal_tvd < 0.05, JSON.stringify([out.before, out.after]));
    const bad = join(dir, "bad.json");
    await (await import("node:fs/promises")).writeFile(bad, '{"7": 1}');
    const r = await ptalign(["run", "--model", "sim:e", "--target", "extreme", "--logit-bias", bad, "--no-save"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not an answer/);
  });
});
