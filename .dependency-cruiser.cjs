// The architecture check (`npm run check:arch`, and test/arch/layers.test.ts under `npm test`): no import cycle,
// type-only imports included, and layers that only point down. docs/architecture.md explains the layers and where
// the loose files (rng.ts, errors.ts, index.ts, synth, config) sit and why.
//
// A module may import its own layer, a peer of the same rank (the cycle rule keeps peers from leaning on each
// other both ways) and anything of a lower rank; never a higher one. A file under src/ that belongs to no layer is a
// violation too, so a new folder gets a rank before it gets imports.

/** Highest first. Paths are regexes on the path relative to the repository (dependency-cruiser's `source`). */
const LAYERS = [
  { name: "index", rank: 100, path: "^src/index\\.ts$" },
  { name: "cli", rank: 90, path: "^src/cli/" },
  { name: "study", rank: 80, path: "^src/study/" },
  { name: "analysis", rank: 80, path: "^src/analysis/" },
  { name: "report", rank: 80, path: "^src/report/" },
  // The probe measures like run and reads inside the model (docs/probe.md); report and analysis read its results.
  { name: "probe", rank: 75, path: "^src/probe/" },
  // run.ts measures; record.ts (the store helper's) records a measurement into the store as it runs.
  { name: "run", rank: 70, path: "^src/(run|record)\\.ts$" },
  { name: "tasks", rank: 60, path: "^src/tasks/" },
  { name: "protocols", rank: 60, path: "^src/protocols/" },
  // The measurement's configuration (schema, build) sits above the protocols whose settings it builds; the record of
  // settings and the defaults are leaves (zod and types only), so the store and every layer can read them.
  { name: "config", rank: 65, path: "^src/config/(schema|build)\\.ts$" },
  { name: "scoring", rank: 50, path: "^src/scoring/" },
  { name: "synth", rank: 45, path: "^src/synth/" },
  { name: "backends", rank: 40, path: "^src/backends/" },
  { name: "metrics", rank: 30, path: "^src/metrics/" },
  { name: "classify", rank: 30, path: "^src/classify/" },
  { name: "store", rank: 20, path: "^src/store/" },
  { name: "distributions", rank: 10, path: "^src/distributions/" },
  { name: "settings-record", rank: 5, path: "^src/config/(recorded|defaults)\\.ts$" },
  { name: "types", rank: 0, path: "^src/(types\\.ts|types/|errors\\.ts|rng\\.ts|limits\\.ts|text\\.ts|lazyRequire\\.ts)" },
];

const layerRules = LAYERS.flatMap((from) => {
  const above = LAYERS.filter((to) => to.rank > from.rank);
  if (above.length === 0) return [];
  return [
    {
      name: `layer-${from.name}`,
      comment: `${from.name} (rank ${from.rank}) imports a higher layer: layers only point down (docs/architecture.md)`,
      severity: "error",
      from: { path: from.path },
      to: { path: above.map((l) => l.path) },
    },
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "an import cycle (type-only imports count): break it by moving the shared piece down a layer",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: "unlayered",
      comment: "a file under src/ that belongs to no layer: give its folder a rank in .dependency-cruiser.cjs and docs/architecture.md",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that resolves to nothing",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    // Type-only imports are dependencies too: a cycle through `import type` still ties the modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".d.ts", ".js", ".mjs", ".cjs", ".json"] },
  },
};
