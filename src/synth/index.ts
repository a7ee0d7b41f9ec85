export * from "./gguf.ts";
export * from "./spm.ts";
export * from "./bigram.ts";
export * from "./specs.ts";
