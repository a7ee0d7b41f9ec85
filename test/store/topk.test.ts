// A top-k remote measurement explains its verdict the same whether it is read from the run (a single `ptalign run`,
// summarised from the steps in memory) or from the store (a study cell, summarised from the steps read back).
// Before schema 2 the store dropped `outside`, so a study cell's bound blamed pruned paths ("lower --prune").
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { summarise } from "../../src/run.ts";
import { openStore } from "../../src/store/registry.ts";
import type { Result, Run } from "../../src/types.ts";
import { startFakeServer, type FakeServer } from "../remote/fakeServer.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

const env = { PTALIGN_RETRY_BASE_MS: "5", OPENAI_BASE_URL: "", OPENAI_API_KEY: "", PTALIGN_CACHE_DIR: "" };
const TARGET = "{1:0.25,2:0.25,3:0.25,4:0.25}";
const boundReason = (r: Pick<Result, "verdict">) => r.verdict.reasons.find((x) => x.startsWith("uncertain:"));

describe("top-k remote: the verdict's explanation from the run and from the store", () => {
  let srv: FakeServer;
  before(async () => {
    srv = await startFakeServer("vllm");
  });
  after(() => srv.close());

  it("a single run and a study cell (rebuilt from the store) give the same bound sentence, naming the server's top-k", async () => {
    const dir = await tempDir();
    const remote = ["--base-url", srv.url, "--scoring", "top-k", "--top-logprobs", "2", "--cache-dir", join(dir, "cache")];
    const single = await ptalign(["run", "--model", "openai:m", "--target", TARGET, "--steps", "6", "--runs", "2", "--seed", "1", ...remote, "--out", join(dir, "single"), "--json"], { env });
    assert.equal(single.code, 0, single.stderr);
    const fromRun = JSON.parse(single.stdout) as Result;
    const sentence = boundReason(fromRun);
    assert.ok(sentence, `the top-k run is uncertain: ${fromRun.verdict.reasons.join(" | ")}`);
    assert.match(sentence, /top-k truncation/);
    assert.match(sentence, /use a server with exact scoring/);

    const study = join(dir, "s.yaml");
    await writeFile(study, `models: [openai:m]\ntargets: ["${TARGET}"]\nsteps: 6\nruns: 2\nseeds: [1]\n`);
    const cell = await ptalign(["run", study, ...remote, "--out", join(dir, "study"), "--json"], { env });
    assert.equal(cell.code, 0, cell.stderr);
    const [name] = readdirSync(join(dir, "study", "runs"));
    const fromStore = JSON.parse(readFileSync(join(dir, "study", "runs", name!), "utf8")) as Result;
    assert.deepEqual(fromStore.runs.map((r) => r.steps), fromRun.runs.map((r) => r.steps), "the same steps, every field kept");
    assert.equal(boundReason(fromStore), sentence);
    assert.doesNotMatch(boundReason(fromStore)!, /--prune/);
  });

  it("steps with `outside` summarised again after a trip through the store: the same verdict", async () => {
    const dir = await tempDir();
    const target = { support: ["1", "2", "3", "4"], probs: [0.25, 0.25, 0.25, 0.25] };
    const runs: Run[] = [1, 2].map((seed) => ({ seed, steps: [0, 1, 2, 3].map((t) => ({ t, ptoken: [0.52, 0.48, 0, 0], leak: 0.08, sample: "1", unknown: 0.3, outside: ["3", "4"], entropy_full_bounds: [1.09, null] as [number, null] })) }));
    const result = { ...summarise("openai:m", "sequential", target, runs, { steps: 4, runs: 2, seed: 1 }), id: "k" };
    const store = await openStore(dir, { write: true });
    try {
      await store.putResult(result);
      const again = summarise("openai:m", "sequential", target, await store.runsOf("k"), { steps: 4, runs: 2, seed: 1 });
      assert.match(boundReason(result)!, /top-k truncation/);
      assert.deepEqual(again.verdict, result.verdict);
    } finally {
      await store.close();
    }
  });
});
