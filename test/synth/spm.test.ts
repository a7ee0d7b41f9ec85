import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../src/errors.ts";
import {
  buildBigramModel,
  collapsedSpec,
  completePieces,
  demoSpecs,
  dLikeSpec,
  eLikeSpec,
  nextTokenProbabilities,
  tokenizeWithSpec,
  writeDemoModels,
  type BigramSpec,
} from "../../src/synth/index.ts";

const pieces = (spec: BigramSpec, text: string, sp = false): string[] => {
  const built = buildBigramModel({ ...spec, addSpacePrefix: sp });
  return tokenizeWithSpec(built, text).map((id) => built.vocab[id] as string);
};

test("completePieces adds single characters and every prefix, keeping the given order first", () => {
  assert.deepEqual(completePieces(["▁10,", ","]), [
    "▁10,", ",", "▁", "1", "0", "▁1", "▁10",
  ]);
  assert.deepEqual(completePieces(["ab", "ab", "a"]), ["ab", "a", "b"]);
});

test("SPM merges need every intermediate piece; lone characters need not be tokens to merge", () => {
  const base = { rows: {} };
  // "▁1," reachable through "▁1" (single characters "▁", "1", "," are not pieces at all)
  assert.deepEqual(pieces({ ...base, pieces: ["▁1", "▁1,"] }, " 1,"), ["▁1,"]);
  // ...or through "1,"
  assert.deepEqual(pieces({ ...base, pieces: ["1,", "▁1,"] }, " 1,"), ["▁1,"]);
  // a character that is not a piece becomes its UTF-8 byte tokens
  assert.deepEqual(pieces({ ...base, pieces: ["▁1"] }, " 1é"), ["▁1", "<0xC3>", "<0xA9>"]);
  // longer merges win: "▁1," over "▁1" + ","
  assert.deepEqual(pieces({ ...base, pieces: completePieces(["▁1,", ","]) }, " 1, 1,,"), ["▁1,", "▁1,", ","]);
  // add_space_prefix prepends "▁" at the start of the text
  assert.deepEqual(pieces({ ...base, pieces: completePieces(["▁1,"]) }, " 1,", true), ["▁", "▁1,"]);
  assert.deepEqual(pieces({ ...base, pieces: completePieces(["▁1,"]) }, "1,", true), ["▁1,"]);
});

test("a piece the tokenizer can never produce is rejected with the fix", () => {
  assert.throws(
    () => buildBigramModel({ pieces: ["▁", "1", ",", "▁1,"], rows: {} }),
    (e: unknown) => e instanceof InputError && /can never produce "▁1,"/.test(e.message) && /completePieces/.test(e.message),
  );
});

test("invalid specs throw clear InputErrors", () => {
  const ok = completePieces(["▁1", "▁2", ","]);
  const bad = (spec: Partial<BigramSpec>, re: RegExp) =>
    assert.throws(() => buildBigramModel({ pieces: ok, rows: {}, ...spec }), (e: unknown) => e instanceof InputError && re.test(e.message));
  bad({ rows: { ",": { "▁1": 0.5, "▁2": 0.4 } } }, /row "," sums to 0.9\d*, not 1/);
  bad({ rows: { ",": { "▁1": 0.5, "▁3": 0.5 } } }, /row "," names unknown token "▁3"/);
  bad({ rows: { ",": { " 1": 1 } } }, /unknown token " 1" \(write spaces as "▁"\)/);
  bad({ rows: { "▁9": { "▁1": 1 } } }, /row for unknown token "▁9"/);
  bad({ rows: { ",": { "▁1": 1.5, "▁2": -0.5 } } }, /probability -0.5; probabilities must be finite and ≥ 0/);
  bad({ rows: { ",": { "▁1": Number.NaN } } }, /probability NaN/);
  bad({ rows: { ",": {} } }, /row "," is empty/);
  bad({ defaultRow: { "▁1": 0.2 } }, /defaultRow sums to 0.2/);
  bad({ pieces: [] }, /non-empty array/);
  bad({ pieces: ["▁1", "▁1"] }, /listed twice/);
  bad({ pieces: [" 1"] }, /contains a space; write spaces as "▁" \(e.g. "▁1"\)/);
  bad({ pieces: ["<0x0A>"] }, /collides with a special or byte token/);
  bad({ pieces: ["<s>"] }, /collides/);
});

test("rows may be keyed by <s>, byte tokens and </s>, and may target </s>", () => {
  const built = buildBigramModel({
    pieces: ["a"],
    rows: { "<s>": { a: 1 }, "<0x0A>": { "</s>": 1 }, a: { a: 0.5, "</s>": 0.5 } },
  });
  assert.equal(built.nEmbd, 4); // 4 classes (default + 3 rows), already even
  assert.equal(buildBigramModel({ pieces: ["a"], rows: {} }).nEmbd, 2); // at least 2
  assert.equal(buildBigramModel({ pieces: ["a"], rows: { a: { a: 1 } } }).nEmbd, 2);
  assert.equal(buildBigramModel({ pieces: ["a", "b"], rows: { a: { a: 1 }, b: { a: 1 } } }).nEmbd, 4); // 3 -> 4
});

test("demo specs validate and have the documented shape", async () => {
  const { e, d, collapsed } = demoSpecs();
  const be = buildBigramModel(e);
  assert.deepEqual(Object.fromEntries([...nextTokenProbabilities(be, 1)].map(([k, v]) => [be.vocab[k], Number(v.toFixed(12))])), { "▁1": 0.1, "▁2": 0.7, "▁3": 0.1, "▁4": 0.1 });
  const bd = buildBigramModel(d);
  const after2 = nextTokenProbabilities(bd, bd.ids["▁2,"] as number);
  assert.equal(Number((after2.get(bd.ids["▁3,"] as number) ?? 0).toFixed(12)), 0.94);
  const bc = buildBigramModel(collapsed);
  // The demo collapses on "1", a minority answer of the extreme target (away from P_task, not on its mode).
  assert.equal(Number((nextTokenProbabilities(bc, bc.ids[","] as number).get(bc.ids["▁1"] as number) ?? 0).toFixed(12)), 0.97);
  assert.throws(() => eLikeSpec({ support: ["1", "1"], probs: [0.5, 0.5] }), /listed twice/);
  assert.throws(() => dLikeSpec(["1 2", "3"]), /without spaces, commas/);
  assert.throws(() => collapsedSpec(["1", "2"], 5), /answer must index the support/);
  const dir = await mkdtemp(join(tmpdir(), "ptalign-demo-"));
  const infos = await writeDemoModels(dir);
  assert.match(infos.d.path, /synth-d\.gguf$/);
  await rm(dir, { recursive: true, force: true });
});
