// test-process: own — the engine's models loaded by top-level hooks (test/support/suite.ts)
// Loads generated models with the real engine (node-llama-cpp, CPU, 1 thread) and checks tokenization,
// next-token probabilities against the chosen rows, the chat template, and load time.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { getLlama, LlamaLogLevel, type Llama, type LlamaContextOptions, type LlamaModel, type Token } from "node-llama-cpp";
import {
  buildBigramModel,
  completePieces,
  demoSpecs,
  dLikeSpec,
  eLikeSpec,
  nextTokenProbabilities,
  tokenizeWithSpec,
  writeBigramModel,
  type BigramSpec,
  type BuiltBigram,
  type SynthInfo,
} from "../../src/synth/index.ts";

const dir = await mkdtemp(join(tmpdir(), "ptalign-synth-"));
let llama: Llama;
const models: LlamaModel[] = [];

before(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.warn });
});
after(async () => {
  for (const m of models) await m.dispose();
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

interface Loaded {
  model: LlamaModel;
  info: SynthInfo;
  built: BuiltBigram;
  loadMs: number;
}

let counter = 0;
async function load(spec: BigramSpec): Promise<Loaded> {
  const path = join(dir, `m${counter++}.gguf`);
  const info = await writeBigramModel(path, spec);
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: path });
  const loadMs = performance.now() - t0;
  models.push(model);
  return { model, info, built: buildBigramModel(spec), loadMs };
}

/** Full next-token distribution after every position of `tokens` (one evaluation). */
async function nextAfterEach(model: LlamaModel, tokens: Token[], options: Partial<LlamaContextOptions> = {}): Promise<Map<Token, number>[]> {
  const ctx = await model.createContext({ threads: 1, sequences: 1, contextSize: 256, ...options });
  try {
    const seq = ctx.getSequence();
    const res = await seq.controlledEvaluate(tokens.map((t) => [t, { generateNext: { probabilities: true } }] as [Token, { generateNext: { probabilities: true } }]));
    return res.map((r, i) => {
      const p = r?.next?.probabilities;
      assert.ok(p, `no probabilities at position ${i}`);
      return p;
    });
  } finally {
    await ctx.dispose();
  }
}

/** Max |engine - chosen| over the whole vocabulary after each position; zeros must be exactly 0. */
function maxError(built: BuiltBigram, tokens: Token[], got: Map<Token, number>[]): number {
  let worst = 0;
  tokens.forEach((tok, i) => {
    const want = nextTokenProbabilities(built, tok);
    const have = got[i] as Map<Token, number>;
    for (let v = 0; v < built.vocab.length; v++) {
      const w = want.get(v) ?? 0;
      const h = have.get(v as Token) ?? 0;
      if (w === 0) assert.equal(h, 0, `after ${built.vocab[tok]}: ${built.vocab[v]} should have probability 0, got ${h}`);
      worst = Math.max(worst, Math.abs(h - w));
    }
  });
  return worst;
}

const ENGINE_CONFIGS: Array<[string, Partial<LlamaContextOptions>]> = [
  ["engine defaults", {}],
  ["flashAttention false + F32 KV", { flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" }],
];

const custom: BigramSpec = {
  pieces: completePieces(["▁1,", "▁2,", "▁1", "▁2", ",", "x"]),
  rows: {
    "<s>": { "▁1": 0.25, "▁2": 0.75 },
    "▁1": { ",": 1 },
    ",": { "▁1": 0.1, "▁2": 0.6, "▁1,": 0.2, "</s>": 0.1 },
    "▁2,": { "▁1,": 0.999, "▁2,": 0.001 },
    "<0x0A>": { x: 0.3, "▁2": 0.7 },
  },
  defaultRow: { "▁1": 0.5, "▁2,": 0.5 },
  chatTemplate: "{% for message in messages %}{{ bos_token }}{{ message['content'] }}\n{% endfor %}",
  name: "synth-custom",
};

test("custom spec: token ids, next-token rows within 1e-4, zeros exact, chat template, load time", async (t) => {
  const { model, info, built, loadMs } = await load(custom);
  t.diagnostic(`load ${loadMs.toFixed(1)} ms, n_embd ${info.nEmbd}, vocab ${info.vocab.length}`);
  assert.ok(loadMs < 2000, `model load took ${loadMs} ms`);
  const id = info.ids;
  assert.deepEqual(info.vocab.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
  assert.equal(id["▁1,"], 259);
  assert.equal(model.tokens.bos, 1);
  assert.equal(model.tokens.eos, 2);

  assert.deepEqual(model.tokenize(" 1,"), [id["▁1,"]]);
  assert.deepEqual(model.tokenize(" 2, 1,"), [id["▁2,"], id["▁1,"]]);
  assert.deepEqual(model.tokenize("1,"), [id["1"], id[","]]); // "1," is not a piece
  assert.deepEqual(model.tokenize(" 1 1,,"), [id["▁1"], id["▁1,"], id[","]]);
  assert.deepEqual(model.tokenize("\nx"), [id["<0x0A>"], id["x"]]);
  assert.deepEqual(model.tokenize("q"), [id["<0x71>"]]);
  // detokenize: "▁" renders as a space, and a leading space is kept (add_space_prefix is false)
  assert.equal(model.detokenize([id["▁2,"], id["▁1"], id[","]] as Token[]), " 2, 1,");

  // chat template round-trips
  assert.equal(model.fileInfo.metadata.tokenizer.chat_template, custom.chatTemplate);
  assert.equal(model.fileInfo.metadata.general.name, "synth-custom");

  // every row token, the default row (after "x" and "q"), and BOS
  const ctxTokens = [1, id["▁1"], id[","], id["▁2,"], id["<0x0A>"], id["x"], id["<0x71>"], id["▁1,"]] as Token[];
  for (const [label, opts] of ENGINE_CONFIGS) {
    const got = await nextAfterEach(model, ctxTokens, opts);
    const err = maxError(built, ctxTokens, got);
    t.diagnostic(`${label}: max |P_engine - P_chosen| = ${err.toExponential(2)}`);
    assert.ok(err < 1e-4, `${label}: max error ${err}`);
  }
  // spot values read the way the protocol will read them: context minus last, then the last with generateNext
  const ctx = await model.createContext({ threads: 1, sequences: 1, contextSize: 256 });
  const tokens = [1, ...model.tokenize("\n 2,")] as Token[];
  const res = await ctx.getSequence().controlledEvaluate([...tokens.slice(0, -1), [tokens.at(-1) as Token, { generateNext: { probabilities: true } }]]);
  const p = res.at(-1)?.next?.probabilities;
  assert.ok(p);
  assert.ok(Math.abs((p.get(id["▁1,"] as Token) ?? 0) - 0.999) < 1e-4);
  assert.ok(Math.abs((p.get(id["▁2,"] as Token) ?? 0) - 0.001) < 1e-4);
  await ctx.dispose();
});

test("demo E-like model: after the prompt and after each ' a,' sample the answers get P_task", async (t) => {
  const spec = demoSpecs().e;
  const { model, info, built, loadMs } = await load(spec);
  t.diagnostic(`load ${loadMs.toFixed(1)} ms`);
  const id = info.ids;
  const text = "Pick a number from 1 to 4:\n 2, 2, 4,";
  const tokens = [1, ...model.tokenize(text)] as Token[];
  assert.deepEqual(tokens, [1, ...tokenizeWithSpec(built, text)]);
  assert.deepEqual(tokens.slice(-6), [id["▁2"], id[","], id["▁2"], id[","], id["▁4"], id[","]]);
  const got = await nextAfterEach(model, tokens);
  const err = maxError(built, tokens, got);
  t.diagnostic(`max error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4);
  const answers = ["▁1", "▁2", "▁3", "▁4"].map((a) => id[a] as Token);
  for (const i of [tokens.length - 7, tokens.length - 5, tokens.length - 3, tokens.length - 1]) {
    const dist = answers.map((a) => got[i]?.get(a) ?? 0);
    dist.forEach((q, k) => assert.ok(Math.abs(q - ([0.1, 0.7, 0.1, 0.1][k] as number)) < 1e-4, `step at ${i}: ${dist.join(",")}`));
  }
  assert.ok(Math.abs((got[tokens.length - 2]?.get(id[","] as Token) ?? 0) - 1) < 1e-6); // "," surely follows "▁4"
});

test("demo D-like model: answers merged with the delimiter, each step peaks on a different answer", async (t) => {
  const spec = demoSpecs().d;
  const { model, info, built } = await load(spec);
  const id = info.ids;
  const text = "Pick a number from 1 to 4:\n 2, 3, 4, 1,";
  const tokens = [1, ...model.tokenize(text)] as Token[];
  assert.deepEqual(tokens.slice(-4), [id["▁2,"], id["▁3,"], id["▁4,"], id["▁1,"]]);
  const got = await nextAfterEach(model, tokens);
  const err = maxError(built, tokens, got);
  t.diagnostic(`max error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4);
  const answers = ["▁1,", "▁2,", "▁3,", "▁4,"].map((a) => id[a] as Token);
  const argmax = (m: Map<Token, number>): number => answers.reduce((best, a, k) => ((m.get(a) ?? 0) > (m.get(answers[best] as Token) ?? 0) ? k : best), 0);
  const n = tokens.length;
  // after the prompt: peak on "2"; after " 2,": "3"; after " 3,": "4"; after " 4,": "1"; after " 1,": "2"
  assert.deepEqual([n - 5, n - 4, n - 3, n - 2, n - 1].map((i) => argmax(got[i] as Map<Token, number>)), [1, 2, 3, 0, 1]);
  assert.ok(Math.abs((got[n - 4]?.get(id["▁3,"] as Token) ?? 0) - 0.94) < 1e-4);
});

test("multi-character answers (1..10) tokenize as single answer tokens in context", async () => {
  const support = Array.from({ length: 10 }, (_, i) => String(i + 1));
  for (const spec of [eLikeSpec({ support, probs: support.map(() => 0.1) }), dLikeSpec(support)]) {
    const { model, info, built } = await load(spec);
    const merged = "▁10," in info.ids;
    const text = "Q:\n 1, 10, 1,";
    const tokens = model.tokenize(text);
    assert.deepEqual(tokens, tokenizeWithSpec(built, text));
    const want = merged ? ["▁1,", "▁10,", "▁1,"] : ["▁1", ",", "▁10", ",", "▁1", ","];
    assert.deepEqual(tokens.slice(-want.length).map((x) => info.vocab[x]), want);
    const all = [1, ...tokens] as Token[];
    assert.ok(maxError(built, all, await nextAfterEach(model, all)) < 1e-4);
  }
});

test("add_space_prefix true: the tokenizer prepends '▁' at the start; detokenize drops it again", async () => {
  const { model, info } = await load({ ...demoSpecs().d, addSpacePrefix: true });
  const id = info.ids;
  assert.deepEqual(model.tokenize(" 1,"), [id["▁"], id["▁1,"]]);
  assert.deepEqual(model.tokenize("1, 2,"), [id["▁1,"], id["▁2,"]]);
  assert.equal(model.detokenize(model.tokenize("1, 2,")), "1, 2,");
  assert.equal(model.detokenize([id["▁1,"]] as Token[]), "1,"); // the leading space of the first token is removed
  assert.equal(model.detokenize([id["▁1,"]] as Token[], false, [id["▁2,"]] as Token[]), " 1,");
});

test("engine tokenizer agrees with spmTokenize on random texts (both space-prefix settings)", async () => {
  const alphabet = [" ", "1", "2", "0", ",", "x", "\n", "▁", "é", "a"];
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (const addSpacePrefix of [false, true]) {
    const spec: BigramSpec = { pieces: completePieces(["▁1,", "▁10,", "1,", ",▁", "xa", "▁x", "▁▁"]), rows: {}, addSpacePrefix };
    const { model, built } = await load(spec);
    for (let k = 0; k < 300; k++) {
      const text = Array.from({ length: 1 + rand(12) }, () => alphabet[rand(alphabet.length)]).join("");
      assert.deepEqual(model.tokenize(text), tokenizeWithSpec(built, text), `text ${JSON.stringify(text)} (addSpacePrefix ${addSpacePrefix})`);
    }
  }
});

test("single characters need not be pieces for a merge; a lone non-piece character becomes bytes", async () => {
  const { model, info } = await load({ pieces: ["▁1", "▁1,"], rows: {} });
  assert.deepEqual(model.tokenize(" 1,"), [info.ids["▁1,"]]);
  const b = (hex: string): number | undefined => info.ids[`<0x${hex}>`];
  assert.deepEqual(model.tokenize(" 1 ,"), [info.ids["▁1"], b("E2"), b("96"), b("81"), b("2C")]);
  assert.deepEqual(model.tokenize(","), [b("2C")]);
  assert.deepEqual(model.tokenize(" "), [b("E2"), b("96"), b("81")]); // "▁" is not a piece: its UTF-8 bytes
  // pitfall: a space that falls back to bytes detokenizes as a literal "▁" (byte tokens are not unescaped),
  // so keep "▁" a piece (completePieces does)
  assert.equal(model.detokenize(model.tokenize(" 1 ,")), " 1▁,");
});
