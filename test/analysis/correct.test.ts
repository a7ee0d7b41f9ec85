import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { correctionEffect } from "../../src/analysis/correct.ts";
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
    // The API form (`logit_bias`: token id → bias): each answer's first token "▁a" tells it apart, and so does "a"
    // after a lone "▁" (the model's other spelling, with no mass here) — both carry the answer's bias.
    for (const a of ["1", "2", "3", "4"]) assert.equal(file.logit_bias[String(info.ids[`▁${a}`])], out.bias[a]);
    for (const a of ["1", "2", "3", "4"]) if (info.ids[a] !== undefined) assert.equal(file.logit_bias[String(info.ids[a])], out.bias[a]);
    const r = await ptalign(["run", "--model", model, "--target", "extreme", "--steps", "6", "--runs", "2", "--seed", "9", "--logit-bias", biasFile, "--no-save", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { metrics: { marginal_tvd: number }; settings: { logitBias: Record<string, number> } };
    assert.ok(res.metrics.marginal_tvd < 0.02, `re-run marginal_tvd ${res.metrics.marginal_tvd}`);
    assert.deepEqual(res.settings.logitBias, out.bias);
  });

  it("a SentencePiece model that writes digits as \"▁\" + \"1\": the bias lands on the digit tokens it uses, not on the byte-fallback <0x31>…, and the correction works", async () => {
    const dir = await tempDir();
    const model = join(dir, "split-digits.gguf");
    const digits = ["1", "2", "3", "4"];
    const start = { "▁": 1 };
    const info = await writeBigramModel(model, {
      name: "split-digits",
      pieces: ["▁", ",", ...digits],
      defaultRow: start,
      rows: { ",": start, "▁": Object.fromEntries(digits.map((d) => [d, 0.25])), ...Object.fromEntries(digits.map((d) => [d, { ",": 1 }])) },
    });
    const biasFile = join(dir, "bias.json");
    const c = await ptalign(["correct", "--model", model, "--target", "extreme", "--steps", "6", "--runs", "2", "--max-iterations", "5", "--bias-out", biasFile, "--no-save", "--json"]);
    assert.equal(c.code, 0, c.stderr);
    const out = JSON.parse(c.stdout) as Out & { changed: boolean };
    assert.ok(out.before.marginal_tvd > 0.4, JSON.stringify(out.before));
    assert.ok(out.after.marginal_tvd < 0.02, `after ${JSON.stringify(out.after)}: the bias reached the model's paths`);
    assert.equal(out.changed, true);
    assert.doesNotMatch(c.stderr, /changed nothing/);
    const file = JSON.parse(await readFile(biasFile, "utf8")) as { logit_bias: Record<string, number> };
    for (const d of digits) assert.equal(file.logit_bias[String(info.ids[d])], out.bias[d], `"${d}" carries the bias of answer ${d}`);
    assert.ok(!Object.keys(file.logit_bias).includes(String(info.ids["▁"])), "the shared \"▁\" is not biased");
  });

  it("says when a correction changed nothing", () => {
    const m = { atvd: 0.3, marginal_tvd: 0.4, volatility: 0.1 };
    assert.deepEqual(correctionEffect(m, { ...m, atvd: 0.2 }, { "1": 1 }, 1e-3), { changed: true });
    const same = correctionEffect(m, { ...m }, { "1": 1.5 }, 1e-3);
    assert.equal(same.changed, false);
    assert.match(same.warning!, /changed nothing.*do not deploy/);
    assert.match(correctionEffect({ ...m, marginal_tvd: 1e-4 }, { ...m, marginal_tvd: 1e-4 }, { "1": 0 }, 1e-3).warning!, /no correction needed/);
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
