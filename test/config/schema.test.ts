// One configuration for a measurement (src/config): the CLI flags and a study cell fill the same schema, with the
// same defaults, and record the same settings.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCommand, configOfFlags, type RunFlags } from "../../src/cli/run.ts";
import { buildConfig, modelOptionsOf, recordSettings, runSettingsOf } from "../../src/config/build.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { SETTINGS_VERSION } from "../../src/config/recorded.ts";
import { InputError } from "../../src/errors.ts";
import { DEFAULT_TEMPLATE } from "../../src/protocols/index.ts";
import { cellSettings, cellsOf } from "../../src/study/matrix.ts";
import { parseStudy } from "../../src/study/spec.ts";

const NO_ENV: NodeJS.ProcessEnv = {};

/** run's flags as commander parses them (defaults filled), without running anything. */
function flagsOf(args: string[]): RunFlags {
  const cmd = runCommand();
  cmd.exitOverride().action(() => {});
  cmd.parse(args, { from: "user" });
  return cmd.opts<RunFlags>();
}

const cellOf = (text: string, remote?: Parameters<typeof parseStudy>[2]) => cellsOf(parseStudy(text, "/s/study.yaml", { env: NO_ENV, ...remote }))[0]!;

describe("measurement configuration", () => {
  it("has the same defaults from the flags, from a study and from nothing", () => {
    const cli = configOfFlags(flagsOf(["--model", "sim:d", "--target", "extreme"]), DEFAULT_TEMPLATE, NO_ENV);
    const cell = cellOf("models: [sim:d]\ntargets: [extreme]\n", { remote: { scoring: "auto", concurrency: 8, timeout: 120, retries: 6, cache: true } });
    const bare = buildConfig({}, { env: NO_ENV });
    assert.deepEqual(cli, bare);
    assert.deepEqual(cell.config, bare);
    // A study without the CLI's remote flags (in-process) has the same remote defaults.
    assert.deepEqual(cellOf("models: [sim:d]\ntargets: [extreme]\n").config, bare);
    assert.equal(bare.steps, DEFAULTS.steps);
    assert.equal(bare.runs, DEFAULTS.runs);
    assert.equal(bare.prune, DEFAULTS.prune);
    assert.equal(bare.engine.kv, DEFAULTS.engine.kv);
    assert.equal(bare.batch.maxAnswerTokens, DEFAULTS.maxAnswerTokens);
    assert.equal(bare.sampler, undefined);
    assert.equal(bare.template, DEFAULT_TEMPLATE);
  });

  it("--help shows the defaults of DEFAULTS", () => {
    const help = runCommand().helpInformation();
    for (const [flag, value] of [["--steps <n>", DEFAULTS.steps], ["--runs <n>", DEFAULTS.runs], ["--prune <p>", DEFAULTS.prune], ["--max-answer-tokens <n>", DEFAULTS.maxAnswerTokens], ["--timeout <seconds>", DEFAULTS.remote.timeout]] as const) {
      assert.match(help, new RegExp(`${flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\\s\\S]*?\\(default: ${String(value).replace(".", "\\.")}\\)`), flag);
    }
  });

  it("a study cell and the equivalent flags give the same configuration and the same recorded settings", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ptalign-config-"));
    const template = "Draw {{steps}} from {{distribution}}.\n---prefill---\nSamples:";
    await writeFile(join(dir, "p.txt"), template);
    const remote = ["--base-url", "http://127.0.0.1:8000/v1", "--chat", "--scoring", "top-k", "--top-logprobs", "4", "--concurrency", "3", "--timeout", "9", "--retries", "2", "--no-cache"];
    const flags = flagsOf(["--model", "sim:e", "--target", "extreme", "--protocol", "batch", "--steps", "7", "--runs", "2", "--temperature", "0.5", "--seed", "3", "--prune", "0.001", "--top-k", "3", "--top-p", "0.9", "--sampler-order", "vllm", "--threads", "2", "--context-size", "512", "--kv", "f16", "--raw", "--gpu", "off", "--gpu-layers", "0", "--parallel", "2", ...remote]);
    const cli = configOfFlags(flags, template, NO_ENV);
    const study = "models: [sim:e]\ntargets: [extreme]\nprotocols: [batch]\ntemperatures: [0.5]\nseeds: [3]\nsteps: 7\nruns: 2\nprune: 0.001\nsamplers: [{top_k: 3, top_p: 0.9, order: vllm}]\nprompt_file: p.txt\nengine: {threads: 2, context_size: 512, kv: f16, raw: true, gpu: \"off\", gpu_layers: 0, parallel: 2}\n";
    const flagRemote = flagsOf(["--model", "x", "--target", "y", ...remote]);
    const { remoteInput } = await import("../../src/cli/remoteFlags.ts");
    const cell = cellsOf(parseStudy(study, join(dir, "s.yaml"), { env: NO_ENV, remote: remoteInput(flagRemote) }))[0]!;
    assert.deepEqual(cell.config, cli);
    assert.deepEqual(recordSettings(cell.config), recordSettings(cli));
    assert.deepEqual(runSettingsOf(cell.config), runSettingsOf(cli));
    assert.deepEqual(modelOptionsOf(cell.config), modelOptionsOf(cli));
    // What is recorded: today's keys (batch options for the batch protocol only), plus settings_version.
    assert.deepEqual(recordSettings(cli), { steps: 7, runs: 2, temperature: 0.5, seed: 3, prune: 0.001, sampler: { order: "vllm", topK: 3, topP: 0.9 }, maxAnswerTokens: 24, maxFailures: 5, settings_version: SETTINGS_VERSION });
    assert.deepEqual(Object.keys(recordSettings(cli).sampler!), ["order", "topK", "topP"], "the key order the cell hash has always used");
    // The study adds its cell's keys, in the shape stored studies have.
    const recorded = cellSettings({ name: "s" }, cell);
    assert.deepEqual({ ...recorded, template: "…" }, { ...recordSettings(cli), study: "s", cell: cell.hash, target_label: "extreme", template: "…", prompt_name: "p.txt", engine_options: { kv: "f16", raw: true, context_size: 512 } });
    assert.equal(recorded.template, template);
  });

  it("records peer tests and the logit bias as run always has", () => {
    const flags = flagsOf(["--model", "sim:e", "--target", "extreme", "--peer-tests", "--reference-samples", "30"]);
    const config = { ...configOfFlags(flags, DEFAULT_TEMPLATE, NO_ENV), logitBias: { "1": 0.5 } };
    assert.deepEqual(recordSettings(config), { steps: 50, runs: 5, temperature: 1, seed: 1, prune: 1e-7, logitBias: { "1": 0.5 }, peer_tests: { reference: 30 }, settings_version: SETTINGS_VERSION });
    assert.deepEqual(recordSettings(configOfFlags(flagsOf(["--model", "m", "--target", "t", "--peer-tests"]), DEFAULT_TEMPLATE, NO_ENV)).peer_tests, {});
  });

  it("a sampler that truncates nothing is no sampler", () => {
    const flags = flagsOf(["--model", "m", "--target", "t", "--top-k", "0", "--top-p", "1", "--min-p", "0"]);
    assert.equal(configOfFlags(flags, DEFAULT_TEMPLATE, NO_ENV).sampler, undefined);
    assert.equal(cellOf("models: [sim:d]\ntargets: [extreme]\nsamplers: [{top_k: 0, top_p: 1}]\n").sampler, undefined);
  });

  it("rules across fields: --top-p 0 in the CLI's words, in the study's own", () => {
    assert.throws(() => configOfFlags(flagsOf(["--model", "m", "--target", "t", "--top-p", "0"]), DEFAULT_TEMPLATE, NO_ENV), (err: unknown) => err instanceof InputError && err.message === "--top-p 0 keeps no token; use a value in (0, 1] (1 = off)");
    assert.throws(() => parseStudy("models: [sim:d]\ntargets: [extreme]\nsamplers:\n  - {top_p: 0}\n", "s.yaml"), (err: unknown) => err instanceof InputError && err.message === "s.yaml:4: samplers[0].top_p: must be > 0, got number 0");
    assert.throws(() => buildConfig({ sampler: { topP: 0 } }), (err: unknown) => err instanceof InputError && /^sampler\.topP: /.test(err.message));
  });

  it("reads the environment once, when built: OPENAI_BASE_URL unless --base-url, PTALIGN_RETRY_BASE_MS", () => {
    const env = { OPENAI_BASE_URL: "http://env:1/v1", PTALIGN_RETRY_BASE_MS: "5" };
    assert.equal(buildConfig({}, { env }).remote.baseUrl, "http://env:1/v1");
    assert.equal(buildConfig({ remote: { baseUrl: "http://flag:2/v1" } }, { env }).remote.baseUrl, "http://flag:2/v1");
    assert.equal(modelOptionsOf(buildConfig({}, { env })).remote?.backoffMs, 5);
    assert.equal(buildConfig({}, { env: NO_ENV }).remote.baseUrl, undefined);
    assert.equal(modelOptionsOf(buildConfig({ remote: { timeout: 9 } }, { env: NO_ENV })).remote?.timeoutMs, 9000);
  });
});
