// The recorded settings of a result (types.ts RecordedSettings): files of earlier versions read unchanged, typed
// accessors for the modules that read them, and the version new results carry.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildConfig, recordSettings } from "../../src/config/build.ts";
import { engineHardware, engineOf, peerTestsOf, plannedSteps, promptNameOf, readRecordedSettings, recorded, recordedPrompt, recordedSampler, recordedSeed, RecordedSettingsSchema, recordedSteps, SETTINGS_VERSION, settingsVersion, targetLabelOf } from "../../src/config/recorded.ts";
import { measure } from "../../src/run.ts";
import { parseDist } from "../../src/distributions/index.ts";
import type { Result } from "../../src/types.ts";

const FIXTURE = new URL("../fixtures/results-v1/dir/runs/", import.meta.url).pathname;

async function fixtureResults(): Promise<Map<string, Result>> {
  const out = new Map<string, Result>();
  for (const f of (await readdir(FIXTURE)).sort()) out.set(f, JSON.parse(await readFile(join(FIXTURE, f), "utf8")) as Result);
  return out;
}

describe("recorded settings", () => {
  it("every result file of the version before reads unchanged, as version 1", async () => {
    const results = await fixtureResults();
    assert.equal(results.size, 20);
    for (const [f, r] of results) {
      assert.ok(RecordedSettingsSchema.safeParse(r.settings).success, f);
      assert.deepEqual(readRecordedSettings(r.settings), r.settings, f);
      assert.equal(settingsVersion(r.settings), 1, f);
      assert.equal(typeof recordedSteps(r.settings), "number", f);
    }
  });

  it("accessors read what each kind of run recorded", async () => {
    const results = await fixtureResults();
    const get = (prefix: string) => [...results].find(([f]) => f.startsWith(prefix))![1].settings;
    const synth = get("20261204-053756-synth-d");
    assert.deepEqual(engineHardware(synth), { device: "cpu", gpu_layers: 0, threads: 1, parallel: 4 });
    assert.equal(engineOf(synth)?.probabilities, "logits");
    assert.equal(typeof (recordedPrompt(synth) as { user: string }).user, "string");
    assert.equal(plannedSteps(synth), 150);
    const study = get("20261204-053801-sim-d-88c069");
    assert.equal(targetLabelOf(study), "extreme");
    assert.equal(promptNameOf(study), "default");
    assert.deepEqual(recorded(study, "engine_options"), { kv: "f32", raw: false, context_size: null });
    assert.equal(engineHardware(study), undefined);
    const remote = get("20261204-053802-openai-fake");
    assert.equal(recorded(remote, "remote")?.top_logprobs, 2);
    assert.equal(recorded(get("20261204-053803-openai-fake-979b9f.partial"), "partial"), true);
    assert.equal(recordedSeed(get("20261204-053758-sim-d-leak")), 3);
    assert.equal(peerTestsOf(synth), undefined);
    assert.equal(promptNameOf(synth), "default");
  });

  it("keeps unknown keys, drops a known key of another shape, never throws", () => {
    // As a damaged or future file gives it: JSON.parse, cast to the type (as loaders do).
    const raw = JSON.parse(JSON.stringify({ steps: "ten", runs: 2, engine: { device: 3 }, future_key: { a: 1 }, sampler: { order: "vllm", topK: 3 } })) as Result["settings"];
    const s = readRecordedSettings(raw);
    assert.deepEqual(s, { runs: 2, future_key: { a: 1 }, sampler: { order: "vllm", topK: 3 } });
    assert.equal(recordedSteps(raw), undefined);
    assert.equal(plannedSteps(raw), null);
    assert.equal(engineHardware(raw), undefined);
    assert.deepEqual(recordedSampler(raw), { order: "vllm", topK: 3 });
    for (const bad of [null, undefined, 42, "x", [1, 2]]) assert.deepEqual(readRecordedSettings(bad), {});
    assert.equal(settingsVersion(undefined), 1);
    assert.equal(peerTestsOf({ peer_tests: {} })?.reference, undefined);
    assert.deepEqual(peerTestsOf({ peer_tests: { reference: 30 } }), { reference: 30 });
  });

  it("a new result records settings_version and reads back typed", async () => {
    const config = buildConfig({ steps: 4, runs: 2, seed: 7, sampler: { topP: 0.9 }, peerTests: {} }, { env: {} });
    const result = await measure({ model: "sim:e", target: parseDist("extreme"), protocol: config.protocol, settings: recordSettings(config), template: config.template });
    assert.equal(result.settings?.settings_version, SETTINGS_VERSION);
    assert.ok(RecordedSettingsSchema.safeParse(result.settings).success);
    assert.deepEqual(readRecordedSettings(JSON.parse(JSON.stringify(result.settings))), result.settings);
    assert.equal(plannedSteps(result.settings), 8);
    assert.deepEqual(recordedSampler(result.settings), { order: "llama.cpp", topP: 0.9 });
    assert.deepEqual(peerTestsOf(result.settings), {});
    assert.ok(result.metrics.peers, "peer_tests in the recorded settings turn the peers' tests on");
  });
});
