// P_task: DIST parsing, validation, families and presets (see docs/metrics.md, "DIST syntax").
export { parseDist, validateTarget, formatDist, describeDist, promptWords, formatNumber, SUM_TOLERANCE } from "./parse.ts";
export type { ParseOptions } from "./parse.ts";
export { probText } from "./probText.ts";
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
export { bernoulli } from "./families.ts";
export {
  continuousTarget,
  continuousFunctions,
  continuousSignature,
  isContinuousName,
  answerText,
  CONTINUOUS_NAMES,
  DEFAULT_PRECISION,
  DEFAULT_MASS,
  MAX_PRECISION,
} from "./continuous.ts";
export type { ContinuousName } from "./continuous.ts";
export { BADDICE, BADDICE_NAMES, baddice } from "./baddice.ts";
export { parseAnswerNumber, answerOfValue } from "./numbers.ts";
export { readTargetFile, parseTargetFile } from "./targetFile.ts";
