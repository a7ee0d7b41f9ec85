// test-process: own — a PostgreSQL server (top-level hooks) (test/support/suite.ts)
// The lease contract of ResultStore.claimNext / renewCell / releaseCell, run against both stores (SQLite in a temp
// directory, PostgreSQL on a private server): one owner per cell, in the cells' order, a lapsed lease taken over and
// its old owner told so, a done cell never claimed, and N concurrent claimers never sharing a cell.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { after, before, describe, it } from "node:test";
import { dropLease, newLease } from "../../src/store/lease.ts";
import { openStore } from "../../src/store/registry.ts";
import type { ResultStore } from "../../src/store/types.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { tempDir } from "../support/tmp.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

const kinds: [string, () => Promise<string>][] = [
  ["sqlite", () => tempDir()],
  ["postgresql", async () => (await server.newDatabase()).url],
];

for (const [kind, location] of kinds) {
  describe(`leases (${kind})`, () => {
    let where: string;
    let store: ResultStore;
    before(async () => {
      where = await location();
      store = await openStore(where, { write: true });
    });
    after(async () => {
      await store?.close();
    });

    it("one owner per cell, in order; renew and release only by the owner; a lapsed lease is taken over", async () => {
      const a = { owner: "host-a:1:aa", ms: 400 };
      const b = { owner: "host-b:1:bb", ms: 60_000 };
      const cells = ["c1", "c2", "c3"];
      assert.equal(await store.claimNext(cells, a), "c1");
      assert.equal(await store.claimNext(cells, b), "c2", "c1 is a's");
      assert.equal(await store.claimNext(cells, a), "c1", "a's own cell is renewed, not refused");
      assert.equal(await store.renewCell("c1", a), true);
      assert.equal(await store.renewCell("c1", b), false, "b does not hold c1");
      await store.releaseCell("c2", a.owner); // not a's: left alone
      assert.deepEqual(await store.claimedCells(), ["c1", "c2"]);
      await sleep(600); // a's lease (400 ms) lapses
      assert.deepEqual(await store.claimedCells(), ["c2"]);
      assert.equal(await store.claimNext(cells, b), "c1", "the lapsed lease is taken over");
      assert.equal(await store.renewCell("c1", a), false, "a learns it lost c1");
      await store.releaseCell("c1", b.owner);
      await store.releaseCell("c2", b.owner);
      assert.deepEqual(await store.claimedCells(), []);
    });

    it("a cell whose measurement is done is never claimed", async () => {
      const lease = { owner: "w:1:x", ms: 60_000 };
      await store.putResult({ version: 1, id: "r-done", model: "sim:d", protocol: "sequential", target: { support: ["1"], probs: [1] }, runs: [], metrics: {} as never, verdict: { type: "E", reasons: [] } as never }, { cell: "done-cell" });
      assert.equal(await store.claimNext(["done-cell", "open-cell"], lease), "open-cell");
      assert.equal(await store.claimNext(["done-cell"], { owner: "other:2:y", ms: 1000 }), undefined);
      await store.releaseCell("open-cell", lease.owner);
    });

    it("a lease of a process of this machine that is gone: taken over at once on SQLite, after it lapses on PostgreSQL", async () => {
      const dead = spawn(process.execPath, ["-e", ""]);
      await new Promise((r) => dead.on("close", r));
      const gone = { owner: `${hostname()}:${dead.pid}:x`, ms: 60_000 };
      assert.equal(await store.claimNext(["orphan"], gone), "orphan");
      const other = { owner: "w:2:z", ms: 60_000 };
      // SQLite's writers share its machine, so a dead pid is proof; a database server cannot know the workers' pids.
      assert.equal(await store.claimNext(["orphan"], other), kind === "sqlite" ? "orphan" : undefined);
    });

    it("a lease in this process's name that it no longer holds (its release failed, e.g. on a full disk) is abandoned on SQLite", async () => {
      const held = newLease(60_000);
      const dropped = newLease(60_000);
      assert.equal(await store.claimNext(["mine-held"], held), "mine-held");
      assert.equal(await store.claimNext(["mine-dropped"], dropped), "mine-dropped");
      dropLease(dropped); // as after a release that could not be written
      const other = newLease(60_000);
      assert.equal(await store.claimNext(["mine-held"], other), undefined, "a lease this process still holds is respected");
      assert.equal(await store.claimNext(["mine-dropped"], other), kind === "sqlite" ? "mine-dropped" : undefined);
      for (const l of [held, other]) dropLease(l);
    });

    it("8 claimers racing over 40 cells: every cell claimed exactly once", async () => {
      const cells = Array.from({ length: 40 }, (_, i) => `race-${i}`);
      const stores = await Promise.all(Array.from({ length: kind === "sqlite" ? 2 : 8 }, () => openStore(where, { write: true })));
      try {
        const got = new Map<string, string>();
        await Promise.all(stores.map(async (s, w) => {
          for (let n = 0; n < 8 * 40; n++) {
            const cell = await s.claimNext(cells.filter((c) => !got.has(c)), { owner: `w${w}`, ms: 60_000 });
            if (cell === undefined) return;
            assert.equal(got.get(cell) ?? `w${w}`, `w${w}`, `${cell} claimed by two owners`);
            got.set(cell, `w${w}`);
          }
        }));
        assert.equal(got.size, 40);
        // Each cell's lease row names the one owner that won it.
        for (const [cell, owner] of got) assert.equal(await stores[0]!.renewCell(cell, { owner, ms: 60_000 }), true, cell);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
}
