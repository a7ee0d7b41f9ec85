// A CommonJS package loaded the first time it is used, not when its importer loads. stdlib's distributions are ~1,500
// small files (about 0.7 CPU-s to load); most commands never draw from a continuous family or a KS test, and every
// CLI start and test process paid for them (docs/architecture.md, "Start-up cost"). require() is synchronous, so the
// callers keep their synchronous signatures.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** `lazyRequire<typeof import("pkg")>("pkg")` → a function that returns the package's exports, loading it once. */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
