export * from "./gguf.ts";
export * from "./spm.ts";
export * from "./bigram.ts";
export * from "./specs.ts";
export * from "./bpe.ts";
export * from "./bpeModel.ts";
export * from "./families.ts";
export * from "./templates.ts";
