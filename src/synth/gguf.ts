// A small, generic GGUF v3 writer: typed metadata and F32 tensors.
//
// Layout written (all integers little-endian):
//   "GGUF" | version u32 = 3 | tensor count u64 | metadata count u64
//   metadata: key (string) | value type u32 | value
//   tensor infos: name (string) | n_dims u32 | dims u64[n_dims] | ggml type u32 (F32 = 0) | offset u64
//   padding to `alignment`, then the data section; each tensor's offset is relative to the data section
//   and a multiple of `alignment`.
// A string is a u64 byte length followed by UTF-8 bytes (no terminator). An array is element type u32,
// count u64, then the elements.
//
// Tensor dims are in ggml order: dims[0] is the innermost (contiguous) dimension. A matrix listed as
// [n_in, n_out] is stored as n_out rows of n_in values each.

import { writeFile } from "node:fs/promises";
import { endianness } from "node:os";

const LITTLE_ENDIAN = endianness() === "LE";

/** GGUF metadata value types (gguf.h `enum gguf_type`). */
const GGUF_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

const GGML_TYPE_F32 = 0;

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** One typed metadata value. Arrays are homogeneous. */
export type GgufValue =
  | { type: "uint32"; value: number }
  | { type: "int32"; value: number }
  | { type: "uint64"; value: bigint | number }
  | { type: "float32"; value: number }
  | { type: "float64"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "float32[]"; value: ArrayLike<number> }
  | { type: "int32[]"; value: ArrayLike<number> }
  | { type: "uint32[]"; value: ArrayLike<number> };

/** An F32 tensor. `dims` in ggml order (innermost first); `data.length` must equal the product of `dims`. */
export interface GgufTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

export interface GgufFile {
  /** Metadata in the order it is written. Keys must be unique. */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensor[];
  /** Data alignment in bytes (default 32). A value other than 32 must also be given as `general.alignment`. */
  alignment?: number;
}

/** Convenience constructors for metadata values. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: "uint32", value }),
  i32: (value: number): GgufValue => ({ type: "int32", value }),
  u64: (value: bigint | number): GgufValue => ({ type: "uint64", value }),
  f32: (value: number): GgufValue => ({ type: "float32", value }),
  f64: (value: number): GgufValue => ({ type: "float64", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strs: (value: readonly string[]): GgufValue => ({ type: "string[]", value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ type: "float32[]", value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ type: "int32[]", value }),
  u32s: (value: ArrayLike<number>): GgufValue => ({ type: "uint32[]", value }),
};

/** Growable little-endian byte sink. */
class ByteSink {
  private buf = Buffer.alloc(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`GGUF: ${v} is not a uint32`);
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`GGUF: ${v} is not an int32`);
    this.reserve(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: bigint | number): void {
    const b = typeof v === "bigint" ? v : BigInt(v);
    if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`GGUF: ${v} is not a uint64`);
    this.reserve(8);
    this.buf.writeBigUInt64LE(b, this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  str(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.bytes(bytes);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(sink: ByteSink, key: string, v: GgufValue): void {
  const arrayOf = (elemType: number, n: number): void => {
    sink.u32(GGUF_TYPE.array);
    sink.u32(elemType);
    sink.u64(n);
  };
  switch (v.type) {
    case "uint32":
      sink.u32(GGUF_TYPE.uint32);
      sink.u32(v.value);
      return;
    case "int32":
      sink.u32(GGUF_TYPE.int32);
      sink.i32(v.value);
      return;
    case "uint64":
      sink.u32(GGUF_TYPE.uint64);
      sink.u64(v.value);
      return;
    case "float32":
      sink.u32(GGUF_TYPE.float32);
      sink.f32(v.value);
      return;
    case "float64":
      sink.u32(GGUF_TYPE.float64);
      sink.f64(v.value);
      return;
    case "bool":
      sink.u32(GGUF_TYPE.bool);
      sink.u8(v.value ? 1 : 0);
      return;
    case "string":
      sink.u32(GGUF_TYPE.string);
      sink.str(v.value);
      return;
    case "string[]":
      arrayOf(GGUF_TYPE.string, v.value.length);
      for (const s of v.value) sink.str(s);
      return;
    case "float32[]":
      arrayOf(GGUF_TYPE.float32, v.value.length);
      for (let i = 0; i < v.value.length; i++) sink.f32(v.value[i] as number);
      return;
    case "int32[]":
      arrayOf(GGUF_TYPE.int32, v.value.length);
      for (let i = 0; i < v.value.length; i++) sink.i32(v.value[i] as number);
      return;
    case "uint32[]":
      arrayOf(GGUF_TYPE.uint32, v.value.length);
      for (let i = 0; i < v.value.length; i++) sink.u32(v.value[i] as number);
      return;
    default: {
      const never: never = v;
      throw new TypeError(`GGUF: metadata ${key} has an unknown value type ${JSON.stringify(never)}`);
    }
  }
}

/** Serialise a GGUF v3 file to a Buffer. Throws on duplicate keys/tensor names or tensor size mismatches. */
export function encodeGguf(file: GgufFile): Buffer {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new RangeError(`GGUF: alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const keys = new Set<string>();
  for (const [k, v] of file.metadata) {
    if (keys.has(k)) throw new Error(`GGUF: duplicate metadata key ${k}`);
    keys.add(k);
    if (k === "general.alignment" && (v.type !== "uint32" || v.value !== alignment)) {
      throw new Error(`GGUF: general.alignment must be uint32 ${alignment} to match the alignment used`);
    }
  }
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !keys.has("general.alignment")) {
    throw new Error(`GGUF: alignment ${alignment} must also be written as general.alignment`);
  }

  const names = new Set<string>();
  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of file.tensors) {
    if (names.has(t.name)) throw new Error(`GGUF: duplicate tensor ${t.name}`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > 4) throw new Error(`GGUF: tensor ${t.name} must have 1..4 dims`);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`GGUF: tensor ${t.name} has invalid dims ${t.dims.join("x")}`);
    if (n !== t.data.length) {
      throw new Error(`GGUF: tensor ${t.name} dims ${t.dims.join("x")} = ${n} values but data has ${t.data.length}`);
    }
    offsets.push(dataSize);
    dataSize += n * 4;
    dataSize += (alignment - (dataSize % alignment)) % alignment;
  }

  const sink = new ByteSink();
  sink.bytes(Buffer.from(GGUF_MAGIC, "ascii"));
  sink.u32(GGUF_VERSION);
  sink.u64(file.tensors.length);
  sink.u64(file.metadata.length);
  for (const [k, v] of file.metadata) {
    sink.str(k);
    writeValue(sink, k, v);
  }
  file.tensors.forEach((t, i) => {
    sink.str(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(GGML_TYPE_F32);
    sink.u64(offsets[i] as number);
  });
  sink.padTo(alignment);
  const dataStart = sink.length;
  file.tensors.forEach((t, i) => {
    sink.padTo(alignment);
    if (sink.length - dataStart !== offsets[i]) throw new Error(`GGUF: internal offset mismatch for ${t.name}`);
    // Float32Array memory is platform-endian: copy it as is on little-endian machines, else value by value.
    if (LITTLE_ENDIAN) {
      sink.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    } else {
      const bytes = Buffer.alloc(t.data.length * 4);
      for (let j = 0; j < t.data.length; j++) bytes.writeFloatLE(t.data[j] as number, j * 4);
      sink.bytes(bytes);
    }
  });
  sink.padTo(alignment);
  return sink.toBuffer();
}

/** Serialise and write a GGUF v3 file; returns the number of bytes written. */
export async function writeGguf(path: string, file: GgufFile): Promise<number> {
  const buf = encodeGguf(file);
  await writeFile(path, buf);
  return buf.length;
}
