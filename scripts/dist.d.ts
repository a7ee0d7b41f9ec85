// Types of scripts/dist.js (plain JavaScript: bin/ptalign.js loads it before any TypeScript loader).
export declare const ROOT: string;
export type DistState = "fresh" | "same-content" | "stale";
export declare function distState(root?: string): DistState;
export declare function buildDist(root?: string): Promise<number>;
