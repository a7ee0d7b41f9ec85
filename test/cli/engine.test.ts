// --gpu / --gpu-layers / --parallel on this machine (no GPU): flag parsing, the CPU fallback of auto, one clear line
// (exit 2) for a GPU backend that is not there, and what settings.engine records.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { parseStudy } from "../../src/study/spec.ts";
import { eLikeSpec, writeBigramModel } from "../../src/synth/index.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

describe("engine hardware flags", () => {
  let model: string;
  before(async () => {
    model = join(await tempDir(), "e.gguf");
    await writeBigramModel(model, eLikeSpec());
  });
  const run = (...extra: string[]) => ptalign(["run", "--model", model, "--target", "extreme", "--steps", "2", "--runs", "3", "--no-save", ...extra]);

  it("auto (the default) runs on the CPU without a word on stderr and records device, layers and sequences", async () => {
    const r = await run("--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const engine = JSON.parse(r.stdout).settings.engine;
    assert.equal(engine.device, "cpu");
    assert.equal(engine.gpu_layers, 0);
    assert.equal(engine.threads, 1);
    assert.equal(engine.parallel, 1); // one sequence on a CPU: batching is not faster there (issue 19; the GPU rule in test/backends/parallel.test.ts)
    assert.equal(engine.probabilities, "logits");
    const text = await run();
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^engine {4}cpu, 0 GPU layers, 1 thread, 1 parallel sequence$/m);
  });

  it("--gpu off, --gpu-layers N and --parallel N are recorded (layers are 0 without a GPU)", async () => {
    const r = await run("--json", "--gpu", "off", "--gpu-layers", "12", "--parallel", "2");
    assert.equal(r.code, 0, r.stderr);
    const engine = JSON.parse(r.stdout).settings.engine;
    assert.deepEqual([engine.device, engine.gpu_layers, engine.parallel], ["cpu", 0, 2]);
  });

  for (const gpu of ["cuda", "vulkan"]) {
    it(`--gpu ${gpu} where it is absent: one line, exit 2`, async () => {
      const r = await run("--gpu", gpu);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`--gpu ${gpu}: ${gpu === "cuda" ? "CUDA" : "Vulkan"} is not available on this machine \\(usable GPU backends: none\\); use --gpu auto or --gpu off`));
    });
  }

  it("bad values are usage errors naming the flag", async () => {
    for (const [flags, pattern] of [
      [["--gpu", "tpu"], /--gpu.*tpu/],
      [["--gpu-layers", "many"], /--gpu-layers must be auto or a whole number/],
      [["--gpu-layers", "-1"], /--gpu-layers must be auto or a whole number/],
      [["--parallel", "0"], /--parallel must be a whole number ≥ 1/],
    ] as const) {
      const r = await run(...flags);
      assert.equal(r.code, 2, flags.join(" "));
      assert.match(r.stderr, pattern);
    }
  });

  it("task takes the same flags", async () => {
    const r = await ptalign(["task", "codegen", "--model", model, "--gpu", "cuda", "--no-save"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--gpu cuda: CUDA is not available/);
  });

  it("study files take engine.gpu, engine.gpu_layers and engine.parallel", () => {
    const study = parseStudy("models: [sim:e]\ntargets: [extreme]\nengine:\n  gpu: off\n  gpu_layers: 20\n  parallel: 2\n", "s.yaml");
    assert.deepEqual([study.engine.gpu, study.engine.gpuLayers, study.engine.parallel], ["off", 20, 2]);
    assert.equal(parseStudy("models: [sim:e]\ntargets: [extreme]\nengine:\n  gpu_layers: auto\n", "s.yaml").engine.gpuLayers, "auto");
    assert.throws(() => parseStudy("models: [sim:e]\ntargets: [extreme]\nengine:\n  gpu: tpu\n", "s.yaml"), /engine\.gpu/);
  });
});
