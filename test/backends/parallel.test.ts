import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultParallel } from "../../src/backends/parallel.ts";

const GB = 2 ** 30;

describe("default --parallel", () => {
  it("one sequence on a CPU, whatever the runs and memory (batching is not faster there)", () => {
    assert.equal(defaultParallel({ device: "cpu", runs: 5, kvBytesPerSequence: 1, freeBytes: 64 * GB }), 1);
    assert.equal(defaultParallel({ device: "cpu", kvBytesPerSequence: 1, freeBytes: 64 * GB }), 1);
  });

  it("on a GPU: 4, no more than the runs, fewer when the KV caches would take over a quarter of free memory", () => {
    assert.equal(defaultParallel({ device: "gpu", kvBytesPerSequence: 0.1 * GB, freeBytes: 16 * GB }), 4);
    assert.equal(defaultParallel({ device: "gpu", runs: 3, kvBytesPerSequence: 0.1 * GB, freeBytes: 16 * GB }), 3);
    assert.equal(defaultParallel({ device: "gpu", runs: 5, kvBytesPerSequence: 1 * GB, freeBytes: 8 * GB }), 2);
    assert.equal(defaultParallel({ device: "gpu", runs: 5, kvBytesPerSequence: 8 * GB, freeBytes: 8 * GB }), 1);
  });
});
