// Tokenizer and template families of real models that the BPE bigram builder imitates: the pre-tokenizer (how
// numbers are split), the special tokens and where they sit, BOS/EOS, the chat template and the real vocabulary size.
// Facts taken from the models' GGUF conversions (llama.cpp convert_hf_to_gguf.py output) and tokenizer_config.json.

import type { SynthArch } from "./bigram.ts";
import type { PreTokenizer } from "./bpe.ts";
import { LLAMA31_TEMPLATE, MISTRAL_NEMO_TEMPLATE, QWEN25_TEMPLATE } from "./templates.ts";

export type BpeFamilyName = "qwen2.5" | "llama3" | "mistral-nemo";

export interface BpeFamily {
  name: BpeFamilyName;
  pre: PreTokenizer;
  arch: SynthArch;
  /** Control tokens before the byte tokens (Tekken puts them first) and after all other tokens (Qwen, Llama-3). */
  leadingSpecials: readonly string[];
  trailingSpecials: readonly string[];
  bos: string;
  eos: string;
  /** tokenizer.ggml.add_bos_token. */
  addBos: boolean;
  chatTemplate: string;
  /** n_vocab of the real model (`vocabSize: "real"`). */
  realVocabSize: number;
  /** Normal tokens every model of the family has besides the 256 bytes (Llama-3: every 1-3 digit string). */
  baseTokens: () => string[];
}

/** "0".."9", "00".."99", "000".."999": tiktoken-derived vocabularies (Llama-3) hold every string of 1-3 digits. */
function digitStrings(): string[] {
  const out: string[] = [];
  for (let len = 1; len <= 3; len++) for (let n = 0; n < 10 ** len; n++) out.push(String(n).padStart(len, "0"));
  return out;
}

export const BPE_FAMILIES: Readonly<Record<BpeFamilyName, BpeFamily>> = {
  // Qwen2.5-*-Instruct: 151,643 BPE tokens + 22 specials, embedding padded to 151,936; no BOS is added.
  "qwen2.5": {
    name: "qwen2.5",
    pre: "qwen2",
    arch: "qwen2",
    leadingSpecials: [],
    trailingSpecials: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    bos: "<|endoftext|>",
    eos: "<|im_end|>",
    addBos: false,
    chatTemplate: QWEN25_TEMPLATE,
    realVocabSize: 151_936,
    baseTokens: () => [],
  },
  // Llama-3.1-*-Instruct: 128,000 BPE tokens + 256 specials (mostly reserved); BOS <|begin_of_text|> is added.
  llama3: {
    name: "llama3",
    pre: "llama-bpe",
    arch: "llama",
    leadingSpecials: [],
    trailingSpecials: ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    bos: "<|begin_of_text|>",
    eos: "<|eot_id|>",
    addBos: true,
    chatTemplate: LLAMA31_TEMPLATE,
    realVocabSize: 128_256,
    baseTokens: digitStrings,
  },
  // Mistral-Nemo-Instruct-2407 (Tekken, also Mistral-Small-3's tokenizer family): 1,000 control tokens first.
  "mistral-nemo": {
    name: "mistral-nemo",
    pre: "tekken",
    arch: "llama",
    leadingSpecials: ["<unk>", "<s>", "</s>", "[INST]", "[/INST]"],
    trailingSpecials: [],
    bos: "<s>",
    eos: "</s>",
    addBos: true,
    chatTemplate: MISTRAL_NEMO_TEMPLATE,
    realVocabSize: 131_072,
    baseTokens: () => [],
  },
};
