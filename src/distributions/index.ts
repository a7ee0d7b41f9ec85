// P_task: DIST parsing, validation, families and presets (see docs/metrics.md, "DIST syntax").
export { parseDist, validateTarget, formatDist, describeDist, formatNumber, SUM_TOLERANCE } from "./parse.ts";
export type { ParseOptions } from "./parse.ts";
export {
  uniform,
  binomial,
  poisson,
  geometric,
  zipf,
  family,
  preset,
  FAMILY_NAMES,
  FAMILY_SIGNATURES,
  PRESET_NAMES,
  MAX_SUPPORT,
} from "./families.ts";
export type { FamilyName, PresetName } from "./families.ts";
