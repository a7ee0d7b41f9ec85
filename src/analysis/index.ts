export * from "./properties.ts";
export * from "./advise.ts";
export * from "./correct.ts";
export * from "./counterfactual.ts";
