// Direct calls into the libllama that node-llama-cpp ships (its C API, through the koffi FFI), for the one thing
// node-llama-cpp's API cannot give cheaply: the raw next-token logits. node-llama-cpp's `probabilities: true` sorts the
// whole vocabulary, copies it into a JavaScript array and builds a Map of every token (24–37 ms per evaluation on a
// 32k vocabulary against ~3 ms for the forward pass); reading the float32 logits in place costs a pass over an array.
// Struct layouts follow include/llama.h of the llama.cpp release node-llama-cpp 3.21.1 was built from
// (node-llama-cpp/llama/llama.cpp.info.json, tag v0.4.0); the equality tests against node-llama-cpp's own
// probabilities (test/backends/native.test.ts) would catch a layout that does not match the library.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LibraryHandle, TypeObject } from "koffi";

/** A bound C function (koffi converts the arguments by the declared prototype). */
type CFunction = (...args: unknown[]) => unknown;

type Koffi = typeof import("koffi");

export interface LibLlama {
  k: Koffi;
  path: string;
  fn: {
    model_default_params: CFunction;
    context_default_params: CFunction;
    model_load_from_file: CFunction;
    model_free: CFunction;
    init_from_model: CFunction;
    free: CFunction;
    get_memory: CFunction;
    memory_seq_rm: CFunction;
    memory_seq_cp: CFunction;
    memory_clear: CFunction;
    batch_init: CFunction;
    batch_free: CFunction;
    decode: CFunction;
    get_logits_ith: CFunction;
    model_get_vocab: CFunction;
    vocab_n_tokens: CFunction;
    n_ctx: CFunction;
    n_batch: CFunction;
    model_n_layer: CFunction;
  };
  types: { modelParams: TypeObject; contextParams: TypeObject; batch: TypeObject };
}

/** The libllama shared library the running node-llama-cpp addon loaded (same file, so dlopen shares its state and backends). */
function loadedLibllamaPath(): string | null {
  try {
    const maps = readFileSync("/proc/self/maps", "utf8");
    const m = /\s(\/\S*\/libllama[^/\s]*\.so[^/\s]*)$/m.exec(maps);
    if (m) return m[1]!;
  } catch {
    // not Linux: fall back to the prebuilt package below
  }
  return null;
}

/** The prebuilt package's library for this platform and GPU type (macOS / Windows, where /proc/self/maps does not exist). */
function prebuiltLibllamaPath(gpu: string | false): string | null {
  const require = createRequire(import.meta.url);
  const platform = process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : process.platform;
  const name = `@node-llama-cpp/${platform}-${process.arch}${gpu && gpu !== "metal" ? `-${gpu}` : ""}`;
  try {
    const pkg = dirname(require.resolve(`${name}/package.json`));
    const bins = join(pkg, "bins");
    for (const folder of readdirSync(bins)) {
      for (const file of readdirSync(join(bins, folder))) {
        if (/^(lib)?llama(\.v[\d.]+)?\.(so|dylib|dll)$/.test(file)) return join(bins, folder, file);
      }
    }
  } catch {
    // not installed
  }
  return null;
}

let cached: Promise<LibLlama | null> | undefined;

/**
 * Binds libllama once per process, after node-llama-cpp has loaded it (getLlama). Null when koffi or the library
 * cannot be loaded: the caller then reads probabilities through node-llama-cpp (slower, same numbers).
 */
export function libllama(gpu: string | false): Promise<LibLlama | null> {
  cached ??= bind(gpu).catch(() => null);
  return cached;
}

async function bind(gpu: string | false): Promise<LibLlama | null> {
  const path = loadedLibllamaPath() ?? prebuiltLibllamaPath(gpu);
  if (!path) return null;
  const k = (await import("koffi")).default as unknown as Koffi;
  const lib: LibraryHandle = k.load(path);
  const modelParams = k.struct("llama_model_params", {
    devices: "void *",
    tensor_buft_overrides: "void *",
    n_gpu_layers: "int32_t",
    split_mode: "int",
    load_mode: "int",
    lazy_mode: "int",
    main_gpu: "int32_t",
    tensor_split: "void *",
    progress_callback: "void *",
    progress_callback_user_data: "void *",
    kv_overrides: "void *",
    vocab_only: "bool",
    check_tensors: "bool",
    use_extra_bufts: "bool",
    no_host: "bool",
    no_alloc: "bool",
    load_mtp: "bool",
  });
  const contextParams = k.struct("llama_context_params", {
    n_ctx: "uint32_t",
    n_batch: "uint32_t",
    n_ubatch: "uint32_t",
    n_seq_max: "uint32_t",
    n_rs_seq: "uint32_t",
    n_outputs_max: "uint32_t",
    n_outputs_max_per_seq: "uint32_t",
    n_threads: "int32_t",
    n_threads_batch: "int32_t",
    ctx_type: "int",
    rope_scaling_type: "int",
    pooling_type: "int",
    attention_type: "int",
    flash_attn_type: "int",
    rope_freq_base: "float",
    rope_freq_scale: "float",
    yarn_ext_factor: "float",
    yarn_attn_factor: "float",
    yarn_beta_fast: "float",
    yarn_beta_slow: "float",
    yarn_orig_ctx: "uint32_t",
    defrag_thold: "float",
    cb_eval: "void *",
    cb_eval_user_data: "void *",
    type_k: "int",
    type_v: "int",
    abort_callback: "void *",
    abort_callback_data: "void *",
    embeddings: "bool",
    offload_kqv: "bool",
    no_perf: "bool",
    op_offload: "bool",
    swa_full: "bool",
    kv_unified: "bool",
    samplers: "void *",
    n_samplers: "size_t",
    ctx_other: "void *",
  });
  const batch = k.struct("llama_batch", {
    n_tokens: "int32_t",
    token: "void *",
    embd: "void *",
    pos: "void *",
    n_seq_id: "void *",
    seq_id: "void *",
    logits: "void *",
  });
  const fn: LibLlama["fn"] = {
    model_default_params: lib.func("llama_model_default_params", modelParams, []),
    context_default_params: lib.func("llama_context_default_params", contextParams, []),
    model_load_from_file: lib.func("llama_model_load_from_file", "void *", ["str", modelParams]),
    model_free: lib.func("llama_model_free", "void", ["void *"]),
    init_from_model: lib.func("llama_init_from_model", "void *", ["void *", contextParams]),
    free: lib.func("llama_free", "void", ["void *"]),
    get_memory: lib.func("llama_get_memory", "void *", ["void *"]),
    memory_seq_rm: lib.func("llama_memory_seq_rm", "bool", ["void *", "int32_t", "int32_t", "int32_t"]),
    memory_seq_cp: lib.func("llama_memory_seq_cp", "void", ["void *", "int32_t", "int32_t", "int32_t", "int32_t"]),
    memory_clear: lib.func("llama_memory_clear", "void", ["void *", "bool"]),
    batch_init: lib.func("llama_batch_init", batch, ["int32_t", "int32_t", "int32_t"]),
    batch_free: lib.func("llama_batch_free", "void", [batch]),
    decode: lib.func("llama_decode", "int32_t", ["void *", batch]),
    get_logits_ith: lib.func("llama_get_logits_ith", "void *", ["void *", "int32_t"]),
    model_get_vocab: lib.func("llama_model_get_vocab", "void *", ["void *"]),
    vocab_n_tokens: lib.func("llama_vocab_n_tokens", "int32_t", ["void *"]),
    n_ctx: lib.func("llama_n_ctx", "uint32_t", ["void *"]),
    n_batch: lib.func("llama_n_batch", "uint32_t", ["void *"]),
    model_n_layer: lib.func("llama_model_n_layer", "int32_t", ["void *"]),
  };
  return { k, path, fn, types: { modelParams, contextParams, batch } };
}
