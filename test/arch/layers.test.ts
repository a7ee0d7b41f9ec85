// The architecture check of .dependency-cruiser.cjs, run through dependency-cruiser's API: the real tree has no
// violation, and a planted upward import, a planted type-only cycle and a file outside every layer each fail it
// (planted in a temp copy of src/, never in src/ itself).

import assert from "node:assert/strict";
import { cp, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import { tempDir } from "../support/tmp.ts";

const REPO = resolve(import.meta.dirname, "../..");

/** Every violation of the rule file in ROOT, as "rule: from → to". */
async function violations(root: string): Promise<string[]> {
  const cwd = process.cwd();
  // dependency-cruiser reads the rule file's tsConfig and reports paths relative to the working directory.
  process.chdir(root);
  try {
    const options = await extractDepcruiseOptions(join(root, ".dependency-cruiser.cjs"));
    const out = await cruise(["src"], { ...options, validate: true }, undefined, { tsConfig: extractTSConfig(join(root, "tsconfig.json")) });
    const result = out.output as ICruiseResult;
    return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(" → ")})` : ""}`);
  } finally {
    process.chdir(cwd);
  }
}

/** A copy of the rule file, tsconfig.json and src/ in a temp dir, with `plant` files added to its src/. */
async function plantedCopy(plant: Record<string, string>): Promise<string> {
  const root = await tempDir("ptalign-arch-");
  await cp(join(REPO, "src"), join(root, "src"), { recursive: true });
  for (const f of [".dependency-cruiser.cjs", "tsconfig.json"]) await cp(join(REPO, f), join(root, f));
  for (const [path, text] of Object.entries(plant)) await writeFile(join(root, path), text);
  return root;
}

/** Violations planted in a copy of src/: an upward import, a type-only cycle, a file outside every layer. */
const PLANTS = {
  "src/distributions/planted-up.ts": 'import { taskCommand } from "../cli/task.ts";\nexport const up = taskCommand;\n',
  "src/metrics/planted-a.ts": 'import type { B } from "./planted-b.ts";\nexport type A = { b?: B };\n',
  "src/metrics/planted-b.ts": 'import type { A } from "./planted-a.ts";\nexport type B = { a?: A };\n',
  "src/planted-loose.ts": 'import { makeRng } from "./rng.ts";\nexport const loose = makeRng;\n',
};

// One cruise (~3 CPU-s: it parses every module with TypeScript) serves both cases: the copy is src/ plus the planted
// files, so a violation that involves no planted file is one of the real tree's.
let cruised: Promise<string[]> | undefined;
const plantedViolations = (): Promise<string[]> => (cruised ??= plantedCopy(PLANTS).then(violations));

describe("architecture: no cycle, layers only point down (.dependency-cruiser.cjs)", () => {
  it("the source tree has no violation", async () => {
    const real = (await plantedViolations()).filter((v) => !v.includes("planted-"));
    assert.deepEqual(real, []);
  });

  it("fails on a planted upward import, a planted type-only cycle and a file outside every layer", async () => {
    const found = await plantedViolations();
    assert.ok(found.includes("layer-distributions: src/distributions/planted-up.ts → src/cli/task.ts"), found.join("\n"));
    assert.ok(found.some((v) => v.startsWith("no-circular: src/metrics/planted-a.ts → src/metrics/planted-b.ts")), found.join("\n"));
    assert.ok(found.includes("unlayered: src/planted-loose.ts → src/rng.ts"), found.join("\n"));
  });
});
