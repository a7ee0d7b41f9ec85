// The logit lens's output projection done by ggml on the CPU (the bundled libggml, through koffi): the output matrix
// in its own type (F32, F16, any quantisation) multiplied with every block's normalised stream of an evaluation in one
// ggml_mul_mat — llama.cpp's own kernels, SIMD and threads, instead of a JavaScript loop. When any of it cannot be
// bound, the caller keeps the JavaScript head (outputHead.ts).
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { LibLlama } from "./libllama.ts";
import type { OutputHead } from "./types.ts";

type CFunction = (...args: unknown[]) => unknown;

interface GgmlOps {
  init: CFunction;
  free: CFunction;
  newTensor2d: CFunction;
  mulMat: CFunction;
  newGraph: CFunction;
  buildForward: CFunction;
  backendInit: CFunction;
  backendFree: CFunction;
  allocCtx: CFunction;
  bufferFree: CFunction;
  tensorSet: CFunction;
  tensorGet: CFunction;
  compute: CFunction;
  nbytes: CFunction;
  getDevice: CFunction;
  devReg: CFunction;
  procAddress: CFunction;
  rowSize: CFunction;
  setThreads: TypeSpecProto;
}
type TypeSpecProto = unknown;

const GGML_TYPE_F32 = 0;
const CPU_DEVICE = 0;

let bound: GgmlOps | undefined;

function bind(L: LibLlama): GgmlOps {
  if (bound) return bound;
  const k = L.k;
  const dir = dirname(L.path);
  const find = (re: RegExp) => {
    const f = readdirSync(dir).find((x) => re.test(x));
    if (!f) throw new Error(`no ${re} next to ${L.path}`);
    return k.load(join(dir, f));
  };
  const base = find(/^(lib)?ggml-base\.(so|dylib|dll)$/);
  const ggml = find(/^(lib)?ggml(\.v[\d.]+)?\.(so|dylib|dll)$/);
  const params = k.struct("ptalign_ggml_init_params", { mem_size: "size_t", mem_buffer: "void *", no_alloc: "bool" });
  return (bound = {
    init: base.func("ggml_init", "void *", [params]),
    free: base.func("ggml_free", "void", ["void *"]),
    newTensor2d: base.func("ggml_new_tensor_2d", "void *", ["void *", "int", "int64_t", "int64_t"]),
    mulMat: base.func("ggml_mul_mat", "void *", ["void *", "void *", "void *"]),
    newGraph: base.func("ggml_new_graph", "void *", ["void *"]),
    buildForward: base.func("ggml_build_forward_expand", "void", ["void *", "void *"]),
    backendInit: ggml.func("ggml_backend_init_by_type", "void *", ["int", "str"]),
    backendFree: base.func("ggml_backend_free", "void", ["void *"]),
    allocCtx: base.func("ggml_backend_alloc_ctx_tensors", "void *", ["void *", "void *"]),
    bufferFree: base.func("ggml_backend_buffer_free", "void", ["void *"]),
    tensorSet: base.func("ggml_backend_tensor_set", "void", ["void *", "void *", "size_t", "size_t"]),
    tensorGet: base.func("ggml_backend_tensor_get", "void", ["void *", "void *", "size_t", "size_t"]),
    compute: base.func("ggml_backend_graph_compute", "int", ["void *", "void *"]),
    nbytes: base.func("ggml_nbytes", "size_t", ["void *"]),
    getDevice: base.func("ggml_backend_get_device", "void *", ["void *"]),
    devReg: base.func("ggml_backend_dev_backend_reg", "void *", ["void *"]),
    procAddress: base.func("ggml_backend_reg_get_proc_address", "void *", ["void *", "str"]),
    rowSize: base.func("ggml_row_size", "size_t", ["int", "int64_t"]),
    setThreads: k.proto("void ptalign_set_n_threads(void *backend, int n)"),
  });
}

/** Bytes of one row of `n` values of ggml type `type` (any quantisation); throws when libggml cannot be bound. */
export function ggmlRowSize(L: LibLlama, type: number, n: number): number {
  return Number(bind(L).rowSize(type, n));
}

export interface NativeHeadSpec {
  nEmbd: number;
  nVocab: number;
  /** ggml type of the output matrix and its bytes as stored in the file. */
  type: number;
  weights: Buffer;
  /** Normalises a residual stream (RMSNorm × weight, float32 results). */
  normalise: (hidden: Float32Array) => Float32Array;
  /** Applied to the logits after the product (logit scale, final soft-cap). */
  finish: (out: Float32Array) => void;
  threads: number;
}

/** An OutputHead computed by ggml's CPU backend; throws when the library cannot be bound or the matrix not set. */
export function nativeOutputHead(L: LibLlama, spec: NativeHeadSpec): OutputHead & { close(): void } {
  const g = bind(L);
  const k = L.k;
  const backend = g.backendInit(CPU_DEVICE, null);
  if (!backend) throw new Error("no ggml CPU backend");
  const setThreads = g.procAddress(g.devReg(g.getDevice(backend)), "ggml_backend_set_n_threads");
  if (setThreads) k.call(setThreads, g.setThreads as never, backend, Math.max(1, spec.threads));
  // One context per number of streams (every evaluation of a model has the same number of blocks: one graph in practice).
  const graphs = new Map<number, { ctx: unknown; buf: unknown; y: unknown; out: unknown; gf: unknown }>();
  let weight: { ctx: unknown; buf: unknown; w: unknown } | null = null;
  const weights = () => {
    if (weight) return weight;
    const ctx = g.init({ mem_size: 4 * 1024 * 1024, mem_buffer: null, no_alloc: true });
    const w = g.newTensor2d(ctx, spec.type, spec.nEmbd, spec.nVocab);
    const buf = g.allocCtx(ctx, backend);
    if (!buf) throw new Error("ggml could not allocate the output matrix");
    const bytes = Number(g.nbytes(w));
    if (bytes !== spec.weights.length) throw new Error(`output matrix: ${spec.weights.length} bytes in the file, ggml expects ${bytes}`);
    g.tensorSet(w, spec.weights, 0, bytes);
    return (weight = { ctx, buf, w });
  };
  const graph = (K: number) => {
    let gr = graphs.get(K);
    if (gr) return gr;
    const { w } = weights();
    const ctx = g.init({ mem_size: 4 * 1024 * 1024, mem_buffer: null, no_alloc: true });
    const y = g.newTensor2d(ctx, GGML_TYPE_F32, spec.nEmbd, K);
    const out = g.mulMat(ctx, w, y);
    const gf = g.newGraph(ctx);
    g.buildForward(gf, out);
    const buf = g.allocCtx(ctx, backend);
    if (!buf) throw new Error("ggml could not allocate the lens graph");
    gr = { ctx, buf, y, out, gf };
    graphs.set(K, gr);
    return gr;
  };
  const head = {
    nEmbd: spec.nEmbd,
    nVocab: spec.nVocab,
    logits: (hidden: Float32Array) => head.logitsMany([hidden])[0]!,
    logitsMany: (hiddens: readonly Float32Array[]): Float32Array[] => {
      const K = hiddens.length;
      const gr = graph(K);
      const ys = new Float32Array(K * spec.nEmbd);
      hiddens.forEach((h, i) => ys.set(spec.normalise(h), i * spec.nEmbd));
      g.tensorSet(gr.y, ys, 0, ys.byteLength);
      if ((g.compute(backend, gr.gf) as number) !== 0) throw new Error("ggml_backend_graph_compute failed for the lens");
      const all = new Float32Array(K * spec.nVocab);
      g.tensorGet(gr.out, all, 0, all.byteLength);
      return hiddens.map((_, i) => {
        const out = all.slice(i * spec.nVocab, (i + 1) * spec.nVocab);
        spec.finish(out);
        return out;
      });
    },
    close: () => {
      for (const gr of graphs.values()) {
        g.bufferFree(gr.buf);
        g.free(gr.ctx);
      }
      graphs.clear();
      if (weight) {
        g.bufferFree(weight.buf);
        g.free(weight.ctx);
        weight = null;
      }
      g.backendFree(backend);
    },
  };
  return head;
}
