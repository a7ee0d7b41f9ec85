import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { parseDist } from "../../src/distributions/index.ts";
import { completePieces, writeBigramModel, type BigramSpec } from "../../src/synth/index.ts";
import type { Result } from "../../src/types.ts";
import { ptalign } from "../support/cli.ts";
import { tempDir } from "../support/tmp.ts";

/*
 * A generated model that writes numbers digit by digit with known probabilities, for the target cuniform(-1,1) at
 * precision 1 (answers -1.0, -0.9, …, 0.9, 1.0). Rows (next token after a token):
 *   prompt or ",": ▁0 .35, ▁1 .15, ▁- .5         ▁0: . 1        ▁1: . 1        ▁-: "0." .8, "1." .2
 *   . and "0.": the digit row D = 0 .05, 1 .1, 2 .15, 3 .2, 4 .1, 5 .1, 6 .1, 7 .1, 8 .05, 9 .05
 *   "1.": 0 .5, 5 .5             each digit: , 1
 * Chain rule: " 0.k," = .35·D(k); " 1.0," = .15·D(0) (1.1…1.9 are outside the range: leak); " -0.k," = .5·.8·D(k)
 * for k ≥ 1 (" -0.0," is not how the bins are written: leak); " -1.0," = .5·.2·.5 (" -1.5,": leak).
 */
const D = [0.05, 0.1, 0.15, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05];
const digits = Object.fromEntries(D.map((p, k) => [String(k), p]));

function spec(): BigramSpec {
  const start = { "▁0": 0.35, "▁1": 0.15, "▁-": 0.5 };
  const rows: BigramSpec["rows"] = { ",": start, "▁0": { ".": 1 }, "▁1": { ".": 1 }, "▁-": { "0.": 0.8, "1.": 0.2 }, ".": digits, "0.": digits, "1.": { "0": 0.5, "5": 0.5 } };
  for (let k = 0; k < 10; k++) rows[String(k)] = { ",": 1 };
  return { name: "digits", pieces: completePieces(["▁", ",", ".", "-", "▁0", "▁1", "▁-", "0.", "1.", ...Object.keys(digits)]), defaultRow: start, rows };
}

/** The raw chain-rule probability of each bin's text, in the target's support order. */
function expectedRaw(support: readonly string[]): number[] {
  return support.map((a) => {
    const v = Number(a);
    const k = Math.round(Math.abs(v) * 10) % 10;
    if (a === "-1.0") return 0.5 * 0.2 * 0.5;
    if (a === "1.0") return 0.15 * D[0]!;
    if (a.startsWith("-0.")) return 0.5 * 0.8 * D[k]!;
    if (a.startsWith("0.")) return 0.35 * D[k]!;
    return 0;
  });
}

describe("continuous target on a generated GGUF model (real engine)", () => {
  let model: string;
  before(async () => {
    const dir = await tempDir();
    model = join(dir, "digits.gguf");
    await writeBigramModel(model, spec());
  });

  it("gives the exact binned P_token within 1e-4 at every step, and the leak of the other spellings", async () => {
    const target = parseDist("cuniform(-1,1)");
    const raw = expectedRaw(target.support);
    const total = raw.reduce((a, b) => a + b, 0);
    const res = await ptalign(["run", "--model", model, "--target", "cuniform(-1,1)", "--precision", "1", "--steps", "4", "--runs", "2", "--json", "--no-save"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    assert.deepEqual(result.target.support, target.support);
    for (const run of result.runs) {
      for (const s of run.steps) {
        s.ptoken.forEach((q, i) => assert.ok(Math.abs(q - raw[i]! / total) < 1e-4, `${target.support[i]}: ${q} vs ${raw[i]! / total}`));
        assert.ok(Math.abs(s.leak - (1 - total)) < 1e-4, `leak ${s.leak} vs ${1 - total}`);
      }
    }
    assert.equal(result.metrics.n_values, 8);
    assert.ok(result.metrics.ks !== null && result.metrics.ks! > 0);
  });

  it("batch: the model's own free-form numbers are parsed, binned and tested", async () => {
    const res = await ptalign(["run", "--model", model, "--target", "cuniform(-1,1)", "--protocol", "batch", "--steps", "12", "--runs", "1", "--json", "--no-save", "--seed", "4"]);
    assert.equal(res.code, 0, res.stderr);
    const result = JSON.parse(res.stdout) as Result;
    const steps = result.runs[0]!.steps;
    assert.ok(steps.length > 0);
    for (const s of steps) {
      if (s.raw !== undefined && s.sample !== null) {
        // Another spelling of a bin ("-0.0" → "0.0") counts in that bin, the text kept.
        assert.ok(Number(s.raw.trim()) === Number(s.sample), `${s.raw} in bin ${s.sample}`); // -0 === 0
      } else if (s.sample === null) {
        // Outside the range (1.1…1.9, -1.5): recorded, not fatal.
        assert.ok(Math.abs(Number(s.raw)) > 1.05, `raw ${s.raw}`);
      }
    }
    assert.ok(steps.some((s) => s.sample !== null));
    assert.equal(result.metrics.n_values, steps.length); // every answer is a number, inside the range or not
  });
});
