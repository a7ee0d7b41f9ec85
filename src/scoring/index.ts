export { scoreOptions, type Scored, type ScoreOptions } from "./score.ts";
export { optionTexts, shortestSpelling, assertExpressible } from "./options.ts";
export { argmaxToken, biased, fullEntropy, profile, sampleToken, tempered, type TokenProb } from "./temperature.ts";
