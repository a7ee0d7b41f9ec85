// Byte-level BPE vocabularies without the engine: pre-tokenizers, the byte alphabet, merges, vocabulary layout,
// validation, and the rows of the ready E-like spec (test/synth/bpeEngine.test.ts checks them against llama.cpp).
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { InputError } from "../../src/errors.ts";
import { tokenBytesFromGguf } from "../../src/backends/vocab.ts";
import {
  BPE_FAMILIES,
  bpeELikeSpec,
  buildBpeBigramModel,
  byteDecode,
  byteEncode,
  leftChainMerges,
  nextTokenProbabilities,
  preTokenize,
  tokenizeWithBpeSpec,
  type GgufFile,
} from "../../src/synth/index.ts";

const meta = (file: GgufFile, key: string): unknown => file.metadata.find(([k]) => k === key)?.[1].value;

test("pre-tokenizers split numbers as the real models do: qwen2 and tekken per digit, llama-bpe up to three", () => {
  assert.deepEqual(preTokenize("qwen2", "Samples: 7, 12, 120,"), ["Samples", ":", " ", "7", ",", " ", "1", "2", ",", " ", "1", "2", "0", ","]);
  assert.deepEqual(preTokenize("tekken", " 120,"), [" ", "1", "2", "0", ","]);
  assert.deepEqual(preTokenize("llama-bpe", "Samples: 7, 12, 120, 1234,"), ["Samples", ":", " ", "7", ",", " ", "12", ",", " ", "120", ",", " ", "123", "4", ","]);
  // words keep a leading space on letters, never on digits; newlines and runs of spaces are words of their own
  assert.deepEqual(preTokenize("llama-bpe", "Pick one\n  it's"), ["Pick", " one", "\n", " ", " it", "'s"]);
  assert.deepEqual(preTokenize("tekken", "HelloWorld"), ["Hello", "World"]); // tekken splits at case changes
});

test("GPT-2 byte alphabet: space is Ġ, newline Ċ, printable ASCII itself; decoding inverts it", () => {
  assert.equal(byteEncode(" "), "\u0120");
  assert.equal(byteEncode("\n"), "\u010A");
  assert.equal(byteEncode("a1,"), "a1,");
  assert.equal(byteEncode("é"), "\u00C3\u00A9"); // bytes C3 A9 are printable Latin-1: themselves
  assert.equal(byteDecode(byteEncode(" é\n")), Buffer.from(" é\n", "utf8").toString("latin1"));
  assert.equal(byteDecode("\u4E2D"), null);
});

test("left-chain merges build every token from its bytes, shortest merges first", () => {
  assert.deepEqual(leftChainMerges(["123", "12", "\u0120cat"]), {
    tokens: ["123", "12", "\u0120cat", "\u0120c", "\u0120ca"],
    merges: ["1 2", "\u0120 c", "12 3", "\u0120c a", "\u0120ca t"],
  });
});

test("vocabulary layout follows the real families: bytes first, specials where the family keeps them, real sizes", () => {
  const qwen = buildBpeBigramModel({ family: "qwen2.5", rows: {}, vocabSize: "real" });
  assert.equal(qwen.vocab.length, 151_936);
  assert.equal(qwen.vocab[0], "!"); // Qwen2.5 and Llama-3 start with the byte tokens in bytes_to_unicode order
  assert.deepEqual(qwen.vocab.slice(-3), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]);
  assert.equal(qwen.eos, qwen.ids["<|im_end|>"]);
  assert.equal(meta(qwen.file, "general.architecture"), "qwen2");
  assert.equal(meta(qwen.file, "tokenizer.ggml.model"), "gpt2");
  assert.equal(meta(qwen.file, "tokenizer.ggml.pre"), "qwen2");
  assert.equal(meta(qwen.file, "tokenizer.ggml.add_bos_token"), false);
  assert.equal(meta(qwen.file, "qwen2.vocab_size"), 151_936);
  const llama = buildBpeBigramModel({ family: "llama3", rows: {} });
  assert.equal(meta(llama.file, "tokenizer.ggml.pre"), "llama-bpe");
  assert.equal(meta(llama.file, "tokenizer.ggml.add_bos_token"), true);
  for (const n of ["7", "12", "120", "007", "999"]) assert.ok(n in llama.ids, `llama3 has the token ${n}`);
  assert.equal(buildBpeBigramModel({ family: "llama3", rows: {}, vocabSize: "real" }).vocab.length, 128_256);
  const nemo = buildBpeBigramModel({ family: "mistral-nemo", rows: {}, vocabSize: 131_072 });
  assert.deepEqual(nemo.vocab.slice(0, 5), ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"]);
  assert.equal(nemo.vocab.length, 131_072);
  assert.equal(meta(nemo.file, "tokenizer.ggml.pre"), "tekken");
  // the family's real chat template unless told otherwise
  assert.equal(meta(qwen.file, "tokenizer.chat_template"), BPE_FAMILIES["qwen2.5"].chatTemplate);
  assert.match(meta(qwen.file, "tokenizer.chat_template") as string, /<\|im_start\|>assistant\\n/);
  assert.match(meta(nemo.file, "tokenizer.chat_template") as string, /\[INST\]/);
  assert.equal(meta(buildBpeBigramModel({ family: "qwen2.5", rows: {}, chatTemplate: null }).file, "tokenizer.chat_template"), undefined);
  // vocab.ts reads back the bytes every token writes (byte alphabet decoded; specials write nothing)
  const bytes = tokenBytesFromGguf("gpt2", meta(qwen.file, "tokenizer.ggml.tokens") as string[], meta(qwen.file, "tokenizer.ggml.token_type") as number[]);
  assert.ok(bytes);
  assert.equal(bytes[qwen.ids[" "] as number], " ");
  assert.equal(bytes[qwen.ids["\n"] as number], "\n");
  assert.equal(bytes[qwen.ids["<0xC3>"] as number], "\xC3");
  assert.equal(bytes[qwen.ids["<|im_end|>"] as number], "");
});

test("tokenization: the same sample is one token on llama3 and one token per digit on qwen2.5", () => {
  const words = (family: "qwen2.5" | "llama3", text: string) => {
    const built = buildBpeBigramModel({ family, rows: {} });
    return tokenizeWithBpeSpec(built, text).map((id) => built.vocab[id]);
  };
  assert.deepEqual(words("qwen2.5", " 12, 120,"), [" ", "1", "2", ",", " ", "1", "2", "0", ","]);
  assert.deepEqual(words("llama3", " 12, 120, 1234,"), [" ", "12", ",", " ", "120", ",", " ", "123", "4", ","]);
  const cat = buildBpeBigramModel({ family: "qwen2.5", tokens: [" cat"], rows: {} });
  assert.deepEqual(tokenizeWithBpeSpec(cat, "a cat").map((id) => cat.vocab[id]), ["a", " cat"]);
});

test("bad specs are InputErrors that name the fix", () => {
  const bad = (spec: Parameters<typeof buildBpeBigramModel>[0], re: RegExp) =>
    assert.throws(() => buildBpeBigramModel(spec), (e: unknown) => e instanceof InputError && re.test(e.message), String(re));
  bad({ family: "qwen2.5", tokens: [" 1"], rows: {} }, /qwen2 tokenizer can never produce " 1" \(words " " \+ "1"\); give tokens that are whole words/);
  bad({ family: "llama3", tokens: ["1,"], rows: {} }, /can never produce "1,"/);
  bad({ family: "qwen2.5", rows: { "Ġ": { "1": 1 } } }, /unknown token "Ġ" \(write spaces as plain " "\)/);
  bad({ family: "qwen2.5", rows: { " ": { "1": 0.5 } } }, /row " " sums to 0.5/);
  bad({ family: "qwen2.5", rows: {}, vocabSize: 100 }, /vocabSize 100 is below the 259 tokens this model needs/);
  bad({ family: "qwen2.5", tokens: ["<|im_end|>"], rows: {} }, /is a special token of qwen2.5/);
  bad({ family: "gpt5" as "qwen2.5", rows: {} }, /unknown family "gpt5"; use one of qwen2.5, llama3, mistral-nemo/);
});

test("bpeELikeSpec: the bigram fit of the target (exact on llama3; qwen2.5 shares the digit '1' between answers)", () => {
  const support = Array.from({ length: 12 }, (_, i) => String(i + 1));
  const target = { support, probs: support.map(() => 1 / 12) };
  const row = (built: ReturnType<typeof buildBpeBigramModel>, after: string) =>
    Object.fromEntries([...nextTokenProbabilities(built, built.ids[after] as number)].map(([id, p]) => [built.vocab[id], Number(p.toFixed(12))]));
  const llama = buildBpeBigramModel(bpeELikeSpec("llama3", target));
  assert.deepEqual(row(llama, ","), { " ": 1 });
  assert.deepEqual(row(llama, " "), Object.fromEntries(support.map((a) => [a, Number((1 / 12).toFixed(12))])));
  assert.deepEqual(row(llama, "12"), { ",": 1 });
  const qwen = buildBpeBigramModel(bpeELikeSpec("qwen2.5", target));
  // after " ": the first digit ("1" starts 1, 10, 11, 12); after "1": "," for 1 and for the second 1 of 11, "0", "1", "2"
  assert.equal(row(qwen, " ")["1"], Number((4 / 12).toFixed(12)));
  assert.deepEqual(row(qwen, "1"), { ",": 0.4, "0": 0.2, "1": 0.2, "2": 0.2 });
  assert.deepEqual(row(qwen, "2"), { ",": 1 });
  // benchmark shape: wider and deeper, same rows
  const big = buildBpeBigramModel(bpeELikeSpec("llama3", target, { compute: { width: 64, layers: 3 } }));
  assert.equal(big.nEmbd, 64);
  assert.ok(big.file.tensors.some((t) => t.name === "blk.2.ffn_down.weight"));
  assert.deepEqual(row(big, "12"), { ",": 1 });
});
