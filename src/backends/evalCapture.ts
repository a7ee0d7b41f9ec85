// What the model computes inside, read while llama_decode runs: llama.cpp calls an eval callback
// (llama_context_params.cb_eval, ggml_backend_sched_eval_callback) for each node of the compute graph, first asking
// whether we want it (ask = true) and, if so, once it is computed (ask = false). We want the residual stream after
// each block (`l_out-<il>`) and the attention weights (`kq_soft_max-<il>`, present when flash attention is off, as the
// native context sets it), and only at the batch rows whose logits are read (the answer positions).
// Struct layout: struct ggml_tensor of ggml/include/ggml.h in the llama.cpp release node-llama-cpp bundles (v0.4.0):
// checked at start against ggml_tensor_overhead() and ggml_get_name(), so another build is refused, not misread.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TypeObject } from "koffi";
import { RunError } from "../errors.ts";
import type { LibLlama } from "./libllama.ts";
import type { Inside } from "./types.ts";

/** A row of the batch whose logits are read: its index in the batch and the length of its context (= its position + 1). */
export interface CaptureRow {
  row: number;
  positions: number;
}

type CFunction = (...args: unknown[]) => unknown;

interface Ggml {
  tensorGet: CFunction;
  getName: CFunction;
  tensor: TypeObject;
}

const GGML_TYPE_F32 = 0;
/** sizeof(struct ggml_object) in ggml.c: offs, size, next, type, padding[4]. */
const GGML_OBJECT_SIZE = 32;
const NAME = /^(l_out|kq_soft_max)-(\d+)$/;

let ggmlBound: Ggml | null | undefined;

/** libggml-base next to libllama: the tensor accessors (ggml_backend_tensor_get copies from host or device memory). */
function bindGgml(L: LibLlama): Ggml {
  if (ggmlBound) return ggmlBound;
  const k = L.k;
  const dir = dirname(L.path);
  const file = readdirSync(dir).find((f) => /^(lib)?ggml-base\.(so|dylib|dll)$/.test(f));
  if (!file) throw new RunError(`probe: libggml-base is not next to ${L.path}; the eval callback cannot read tensors`);
  const lib = k.load(join(dir, file));
  const tensor = k.struct("ptalign_ggml_tensor", {
    type: "int",
    buffer: "void *",
    ne: k.array("int64_t", 4, "Array"),
    nb: k.array("size_t", 4, "Array"),
    op: "int",
    op_params: k.array("int32_t", 16, "Array"),
    flags: "int32_t",
    src: k.array("void *", 10, "Array"),
    view_src: "void *",
    view_offs: "size_t",
    data: "void *",
    name: k.array("char", 64, "String"),
    extra: "void *",
    padding: k.array("uint8_t", 8, "Array"),
  });
  const overhead = lib.func("ggml_tensor_overhead", "size_t", [])() as number;
  if (overhead - GGML_OBJECT_SIZE !== k.sizeof(tensor)) {
    throw new RunError(`probe: this libggml's struct ggml_tensor is ${overhead - GGML_OBJECT_SIZE} bytes, not the ${k.sizeof(tensor)} of the layout ptalign reads (llama.cpp v0.4.0); the eval callback is disabled for this build`);
  }
  ggmlBound = {
    tensorGet: lib.func("ggml_backend_tensor_get", "void", ["void *", "void *", "size_t", "size_t"]),
    getName: lib.func("ggml_get_name", "str", ["void *"]),
    tensor,
  };
  return ggmlBound;
}

/**
 * The eval callback of one llama.cpp context. `arm()` before a decode says which batch rows to keep; `take()` after
 * it gives each row's inside view. Between decodes the callback asks for nothing, so graphs run unsplit.
 */
export class EvalCapture {
  /** The function pointer for llama_context_params.cb_eval. */
  readonly pointer: ReturnType<typeof import("koffi").register>;
  private readonly g: Ggml;
  private rows: CaptureRow[] = [];
  private nTokens = 0;
  private armed = false;
  private hidden: Float32Array[][] = [];
  private attention: Inside["attention"][] = [];
  private error: string | null = null;
  private checked = false;

  constructor(private readonly L: LibLlama, private readonly nLayer: number) {
    this.g = bindGgml(L);
    const k = L.k;
    const proto = k.proto(`bool ptalign_eval_cb_${Math.random().toString(36).slice(2)}(void *t, bool ask, void *user)`);
    this.pointer = k.register((t: unknown, ask: boolean) => this.onNode(t, ask), k.pointer(proto));
  }

  arm(nTokens: number, rows: readonly CaptureRow[]): void {
    this.nTokens = nTokens;
    this.rows = [...rows];
    this.hidden = rows.map(() => new Array<Float32Array>(this.nLayer));
    this.attention = rows.map(() => new Array(this.nLayer));
    this.error = null;
    this.armed = rows.length > 0;
  }

  /** Each armed row's inside view, in the order given to arm(). */
  take(): Inside[] {
    this.armed = false;
    if (this.error) throw new RunError(`probe: ${this.error}`);
    return this.rows.map((_, i) => {
      const hidden = this.hidden[i]!;
      const attention = this.attention[i]!;
      for (let l = 0; l < this.nLayer; l++) {
        if (!hidden[l]) throw new RunError(`probe: llama.cpp's graph gave no l_out-${l} (this architecture names its block outputs otherwise)`);
        if (!attention[l]) throw new RunError(`probe: llama.cpp's graph gave no kq_soft_max-${l} (flash attention on, or an architecture without it)`);
      }
      return { hidden, attention };
    });
  }

  dispose(): void {
    this.L.k.unregister(this.pointer);
  }

  private onNode(t: unknown, ask: boolean): boolean {
    if (!this.armed) return false;
    try {
      const name = this.g.getName(t) as string;
      const m = NAME.exec(name);
      if (!m) return ask ? false : true;
      if (ask) return true;
      this.read(t, m[1]!, Number(m[2]));
    } catch (err) {
      this.error ??= err instanceof Error ? err.message : String(err);
    }
    return true;
  }

  private read(t: unknown, kind: string, il: number): void {
    const k = this.L.k;
    const head = k.decode(t, this.g.tensor) as { type: number; ne: (number | bigint)[]; nb: (number | bigint)[]; name: string };
    if (!this.checked) {
      if (head.name !== (this.g.getName(t) as string)) throw new Error("struct ggml_tensor layout does not match this libggml (name field)");
      this.checked = true;
    }
    if (il < 0 || il >= this.nLayer) return;
    if (head.type !== GGML_TYPE_F32) throw new Error(`${kind}-${il} is not float32 (ggml type ${head.type})`);
    const ne = head.ne.map(Number);
    const nb = head.nb.map(Number);
    const get = (offset: number, floats: number): Float32Array => {
      const out = new Float32Array(floats);
      this.g.tensorGet(t, out, offset, floats * 4);
      return out;
    };
    if (kind === "l_out") {
      // Every block but the last keeps all the batch's rows; the last keeps only the rows whose logits are read.
      const all = ne[1] === this.nTokens;
      if (!all && ne[1] !== this.rows.length) throw new Error(`l_out-${il} has ${ne[1]} rows for a batch of ${this.nTokens} tokens and ${this.rows.length} outputs`);
      this.rows.forEach((r, i) => {
        this.hidden[i]![il] = get((all ? r.row : i) * nb[1]!, ne[0]!);
      });
      return;
    }
    // kq_soft_max: [n_kv cells, n_tokens, n_head, streams]. With one sequence the cells hold positions 0, 1, … in order.
    if (ne[1] !== this.nTokens) throw new Error(`kq_soft_max-${il} has ${ne[1]} rows for a batch of ${this.nTokens} tokens`);
    const heads = ne[2]!;
    this.rows.forEach((r, i) => {
      const positions = Math.min(r.positions, ne[0]!);
      const weights = new Float32Array(heads * positions);
      for (let h = 0; h < heads; h++) {
        const row = get(r.row * nb[1]! + h * nb[2]!, ne[0]!);
        let inside = 0;
        for (let p = 0; p < positions; p++) inside += row[p]!;
        // The answer row's weights sum to 1 over the context's own cells; mass elsewhere means the cells are not the
        // positions (several sequences sharing the cache), and the regions would be misread.
        if (Math.abs(inside - 1) > 1e-3) throw new Error(`kq_soft_max-${il}: the answer row's attention is not on cells 0…${positions - 1} (sum ${inside.toFixed(4)}); probe needs one sequence per context`);
        weights.set(row.subarray(0, positions), h * positions);
      }
      this.attention[i]![il] = { heads, positions, weights };
    });
  }
}
