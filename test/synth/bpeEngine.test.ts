// test-process: own — the engine's models loaded by top-level hooks (test/support/suite.ts)
// Byte-level BPE models loaded by the real engine (node-llama-cpp, CPU, 1 thread): llama.cpp tokenizes as
// bpeTokenize predicts, the next-token rows come back exactly, resolveChatWrapper applies the real templates with the
// model's turn left open, and vocab.ts reads the bytes every token writes.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { getLlama, LlamaLogLevel, resolveChatWrapper, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { tokenBytesFromGguf } from "../../src/backends/vocab.ts";
import { buildBpeBigramModel, nextTokenProbabilities, tokenizeWithBpeSpec, writeBpeBigramModel, type BpeBigramSpec, type BpeFamilyName, type BuiltBpeBigram } from "../../src/synth/index.ts";

const dir = await mkdtemp(join(tmpdir(), "ptalign-bpe-"));
let llama: Llama;
const models: LlamaModel[] = [];
before(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
});
after(async () => {
  for (const m of models) await m.dispose();
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const loaded = new Map<BpeFamilyName, Promise<{ model: LlamaModel; built: BuiltBpeBigram }>>();
/** Each family's model is written and loaded once for all tests. */
function load(family: BpeFamilyName): Promise<{ model: LlamaModel; built: BuiltBpeBigram }> {
  const made = loaded.get(family) ?? (async () => {
    const info = await writeBpeBigramModel(join(dir, `${family}.gguf`), spec(family));
    const model = await llama.loadModel({ modelPath: info.path });
    models.push(model);
    return { model, built: buildBpeBigramModel(spec(family)) };
  })();
  loaded.set(family, made);
  return made;
}

/** A few rows over the protocol's tokens, so that positions have different classes and some tokens get 0. */
function spec(family: BpeFamilyName): BpeBigramSpec {
  return {
    family,
    tokens: ["Samples", " cat"],
    rows: {
      ":": { " ": 0.9, "\n": 0.1 },
      ",": { " ": 1 },
      " ": { "1": 0.5, "2": 0.3, " cat": 0.2 },
      "1": { ",": 0.4, "0": 0.3, "1": 0.2, "2": 0.1 },
      "<0xC3>": { "<0xA9>": 1 },
    },
    defaultRow: { Samples: 0.5, ":": 0.25, [family === "qwen2.5" ? "<|im_end|>" : family === "llama3" ? "<|eot_id|>" : "</s>"]: 0.25 },
  };
}

const FAMILIES: BpeFamilyName[] = ["qwen2.5", "llama3", "mistral-nemo"];

test("llama.cpp tokenizes like bpeTokenize on random texts (every family's pre-tokenizer)", async (t) => {
  const alphabet = [" ", "  ", "1", "2", "0", "9", ",", ":", "\n", "a", "c", "t", "S", "Samples", " cat", "'s", "é", "中", "!", "\t", "H"];
  let seed = 777;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (const family of FAMILIES) {
    const { model, built } = await load(family);
    const t0 = performance.now();
    for (let k = 0; k < 300; k++) {
      const text = Array.from({ length: 1 + rand(14) }, () => alphabet[rand(alphabet.length)]).join("");
      assert.deepEqual(model.tokenize(text).map(Number), tokenizeWithBpeSpec(built, text), `${family}: ${JSON.stringify(text)}`);
    }
    t.diagnostic(`${family}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
});

test("next-token rows come back within 1e-4 (zeros exactly 0) after every position; EOS and BOS as the family's", async (t) => {
  for (const family of FAMILIES) {
    const { model, built } = await load(family);
    assert.equal(Number(model.tokens.eos), built.eos);
    assert.equal(Number(model.tokens.bos), built.bos);
    assert.equal(model.tokens.shouldPrependBosToken, family !== "qwen2.5"); // Qwen adds no BOS; Llama-3 and Tekken do
    const tokens = [...(family === "qwen2.5" ? [] : [built.bos]), ...model.tokenize("Samples: 10, 2, cat é\n").map(Number)] as Token[];
    const ctx = await model.createContext({ threads: 1, contextSize: 256 });
    try {
      const res = await ctx.getSequence().controlledEvaluate(tokens.map((tok) => [tok, { generateNext: { probabilities: true } }] as [Token, { generateNext: { probabilities: true } }]));
      let worst = 0;
      tokens.forEach((tok, i) => {
        const want = nextTokenProbabilities(built, tok);
        const have = res[i]?.next?.probabilities;
        assert.ok(have, `no probabilities at ${i}`);
        assert.equal(have.size, built.vocab.length);
        for (let v = 0; v < built.vocab.length; v++) {
          const w = want.get(v) ?? 0;
          const h: number = have.get(v as Token) ?? 0;
          if (w === 0) assert.equal(h, 0, `${family} after ${built.vocab[tok]}: ${built.vocab[v]} should be 0`);
          worst = Math.max(worst, Math.abs(h - w));
        }
      });
      t.diagnostic(`${family}: max |P_engine - P_chosen| = ${worst.toExponential(2)} over ${tokens.length} positions`);
      assert.ok(worst < 1e-4, `${family}: ${worst}`);
    } finally {
      await ctx.dispose();
    }
  }
});

test("resolveChatWrapper applies the real templates and leaves the model's turn open after the prefill", async () => {
  const history = [
    { type: "user" as const, text: "Pick 1 to 12." },
    { type: "model" as const, response: ["Samples:"] },
  ];
  const want: Record<BpeFamilyName, [string, RegExp]> = {
    "qwen2.5": ["QwenChatWrapper", /^<\|im_start\|>user\nPick 1 to 12\.<\|im_end\|>\n<\|im_start\|>assistant\nSamples:$/],
    llama3: ["JinjaTemplateChatWrapper", /<\|eot_id\|><\|start_header_id\|>user<\|end_header_id\|>\n\nPick 1 to 12\.<\|eot_id\|><\|start_header_id\|>assistant<\|end_header_id\|>\n\nSamples:$/],
    "mistral-nemo": ["MistralChatWrapper", /^BOS\[INST\]Pick 1 to 12\.\[\/INST\]Samples:$/],
  };
  for (const family of FAMILIES) {
    const { model, built } = await load(family);
    const wrapper = resolveChatWrapper(model);
    const [name, text] = want[family];
    assert.equal(wrapper.constructor.name, name, family);
    const { contextText } = wrapper.generateContextState({ chatHistory: history });
    assert.match(contextText.toString(), text, family);
    // the special tokens are the vocabulary's control tokens, and the prompt ends on the prefill's last token
    const ids = contextText.tokenize(model.tokenizer).map(Number);
    const specials = { "qwen2.5": "<|im_start|>", llama3: "<|start_header_id|>", "mistral-nemo": "[INST]" }[family];
    assert.ok(ids.includes(built.ids[specials] as number), `${family}: ${specials} is one token`);
    assert.equal(built.vocab[ids.at(-1) as number], ":");
  }
});

test("vocab.ts reads the bytes each token writes, as the engine detokenizes them (byte alphabet, specials)", async () => {
  for (const family of FAMILIES) {
    const { model, built } = await load(family);
    const tok = model.fileInfo.metadata.tokenizer.ggml;
    const bytes = tokenBytesFromGguf(String(tok.model), tok.tokens as readonly string[], tok.token_type as readonly number[]);
    assert.ok(bytes, family);
    let checked = 0;
    for (let id = 0; id < bytes.length; id++) {
      const b = bytes[id] as string;
      const text = Buffer.from(b, "latin1").toString("utf8");
      if (Buffer.from(text, "utf8").toString("latin1") !== b) continue; // a lone byte ≥ 0x80: checked in pairs below
      assert.equal(model.detokenize([id as Token], false), text, `${family} token ${id} ${JSON.stringify(tok.tokens[id])}`);
      checked++;
    }
    assert.ok(checked > 128 + 4, `${family}: ${checked}`);
    const eAcute = [built.ids["<0xC3>"], built.ids["<0xA9>"]] as Token[];
    assert.equal(model.detokenize(eAcute), "é");
    assert.equal(Buffer.from(eAcute.map((id) => bytes[id]).join(""), "latin1").toString("utf8"), "é");
  }
});
