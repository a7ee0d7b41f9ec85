export { scoreOptions, type Scored, type ScoreOptions } from "./score.ts";
export { optionTexts, shortestSpelling, assertExpressible } from "./options.ts";
export { argmaxToken, biased, fullEntropy, profile, sampleToken, tempered, type TokenProb } from "./temperature.ts";
export { applySampler, sampledProb, sampleWithSampler, truncates, SAMPLER_ORDERS, type SamplerOrder, type SamplerSettings } from "./sampler.ts";
export { generateUntil, drawToken, type Generated, type GenerateUntilOptions, type Generator, type TokenSampling } from "./generate.ts";
