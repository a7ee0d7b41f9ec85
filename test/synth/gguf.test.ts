import { strict as assert } from "node:assert";
import { join } from "node:path";
import { test } from "node:test";
import { readGgufFileInfo } from "node-llama-cpp";
import { encodeGguf, gguf, writeGguf } from "../../src/synth/index.ts";
import { tempDir } from "../support/tmp.ts";

const dir = await tempDir("ptalign-gguf-"); // removed when the test process exits

test("header: magic, version 3, counts, 32-byte aligned size", () => {
  const buf = encodeGguf({ metadata: [["general.name", gguf.str("x")]], tensors: [{ name: "t", dims: [3], data: new Float32Array([1, 2, 3]) }] });
  assert.equal(buf.subarray(0, 4).toString("ascii"), "GGUF");
  assert.equal(buf.readUInt32LE(4), 3);
  assert.equal(buf.readBigUInt64LE(8), 1n);
  assert.equal(buf.readBigUInt64LE(16), 1n);
  assert.equal(buf.length % 32, 0);
  // the data section holds the tensor at its end (3 floats, padded to 32)
  const data = buf.subarray(buf.length - 32);
  assert.deepEqual([data.readFloatLE(0), data.readFloatLE(4), data.readFloatLE(8)], [1, 2, 3]);
});

test("every metadata type and tensor infos round-trip through node-llama-cpp's GGUF reader", async () => {
  const path = join(dir, "types.gguf");
  await writeGguf(path, {
    metadata: [
      ["general.architecture", gguf.str("llama")],
      ["general.alignment", gguf.u32(32)],
      ["test.u32", gguf.u32(4294967295)],
      ["test.i32", gguf.i32(-7)],
      ["test.f32", gguf.f32(0.5)],
      ["test.f64", gguf.f64(0.1)],
      ["test.u64", gguf.u64(12345678901n)],
      ["test.bool", gguf.bool(true)],
      ["test.str", gguf.str("▁héllo {{ x }}")],
      ["test.strs", gguf.strs(["a", "▁b", ""])],
      ["test.f32s", gguf.f32s([1.5, -2])],
      ["test.i32s", gguf.i32s([1, -2, 3])],
      ["test.u32s", gguf.u32s([7, 8])],
    ],
    tensors: [
      { name: "a", dims: [5], data: new Float32Array(5) },
      { name: "b", dims: [3, 2], data: new Float32Array(6) },
    ],
  });
  const info = await readGgufFileInfo(path, { logWarnings: false });
  assert.equal(info.version, 3);
  const m = info.metadata as unknown as { test: Record<string, unknown> };
  assert.equal(m.test.u32, 4294967295);
  assert.equal(m.test.i32, -7);
  assert.equal(m.test.f32, 0.5);
  assert.equal(m.test.f64, 0.1);
  assert.equal(BigInt(m.test.u64 as number | bigint), 12345678901n);
  assert.equal(m.test.bool, true);
  assert.equal(m.test.str, "▁héllo {{ x }}");
  assert.deepEqual(m.test.strs, ["a", "▁b", ""]);
  assert.deepEqual(m.test.f32s, [1.5, -2]);
  assert.deepEqual(m.test.i32s, [1, -2, 3]);
  assert.deepEqual(m.test.u32s, [7, 8]);
  const tensors = (info.fullTensorInfo ?? []).map((t) => ({ name: t.name, dims: t.dimensions.map(Number), offset: Number(t.offset) }));
  assert.deepEqual(tensors, [
    { name: "a", dims: [5], offset: 0 },
    { name: "b", dims: [3, 2], offset: 32 },
  ]);
});

test("writer rejects inconsistent input", () => {
  const t = (dims: number[], n: number) => ({ name: "t", dims, data: new Float32Array(n) });
  assert.throws(() => encodeGguf({ metadata: [], tensors: [t([2, 2], 3)] }), /dims 2x2 = 4 values but data has 3/);
  assert.throws(() => encodeGguf({ metadata: [["k", gguf.u32(1)], ["k", gguf.u32(2)]], tensors: [] }), /duplicate metadata key k/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [t([1], 1), t([1], 1)] }), /duplicate tensor t/);
  assert.throws(() => encodeGguf({ metadata: [["x", gguf.u32(-1)]], tensors: [] }), /not a uint32/);
  assert.throws(() => encodeGguf({ metadata: [], tensors: [], alignment: 64 }), /general.alignment/);
});
