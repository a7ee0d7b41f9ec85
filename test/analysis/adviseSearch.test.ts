import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ptalign } from "../support/cli.ts";
import { writeBeir } from "../support/searchLayouts.ts";
import { tempDir } from "../support/tmp.ts";

describe("advise: task search, per search domain", () => {
  it("ranks the models by EE-L and says which type the data favours only when it can", async () => {
    const root = await tempDir();
    const out = join(root, "results");
    const docs = Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, text: `document ${i}` }));
    const queries = Array.from({ length: 12 }, (_, i) => ({ id: `q${i}`, text: `query ${i}` }));
    const qrels = queries.flatMap((q, i): [string, string, number][] => [[q.id, `d${i}`, 2], [q.id, `d${i + 1}`, 1], [q.id, `d${i + 2}`, 1]]);
    const data = await writeBeir(join(root, "beir"), docs, queries, qrels);
    for (const model of ["sim:collapsed?peak=1&jitter=0", "sim:e?noise=0"]) {
      const r = await ptalign(["task", "search", "--model", model, "--data", data, "--pool", "5", "--runs", "3", "--exposure", "exact", "--out", out]);
      assert.equal(r.code, 0, r.stderr);
    }
    const res = await ptalign(["advise", out, "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const advice = JSON.parse(res.stdout) as { search: { domain: string; ranking: { model: string; ee_l: number; type: string }[]; favours: string | null; why: string }[] };
    assert.equal(advice.search.length, 1);
    const [d] = advice.search;
    assert.match(d!.domain, /^search · beir · 12 queries · pool 5 · rbp γ=0\.5$/);
    assert.deepEqual(d!.ranking.map((r) => [r.model.replace(/\?.*/, ""), r.type]), [["sim:e", "E"], ["sim:collapsed", "collapsed"]]);
    assert.ok(d!.ranking[0]!.ee_l < 1e-12);
    assert.equal(d!.favours, null);
    assert.match(d!.why, /no D-type model was measured on these pools/);
    const text = await ptalign(["advise", out]);
    assert.match(text.stdout, /task search · beir · 12 queries · pool 5 · rbp γ=0\.5:\n {2}1\. sim:e\?noise=0\S*  E  — EE-L 0\.0000/);
  });
});
