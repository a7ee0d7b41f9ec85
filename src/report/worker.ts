// One long-lived worker thread that renders for `view` (render.ts), started on the first request. Run from dist/
// (scripts/dist.js) this module is JavaScript and so is renderWorker.js next to it; run from the sources, it is
// TypeScript through tsx, which bin/ptalign.js and the tests register in their own thread only, so the worker
// registers it itself before importing renderWorker.ts.

import { Worker } from "node:worker_threads";
import type { RenderRequest } from "./render.ts";

export interface Renderer {
  render(req: RenderRequest): Promise<string | null>;
  close(): Promise<void>;
}

export function startRenderer(): Renderer {
  let worker: Worker | undefined;
  let seq = 0;
  const waiting = new Map<number, { resolve: (html: string | null) => void; reject: (err: Error) => void }>();
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    worker = undefined; // the next request starts a new worker
  };
  const start = () => {
    const w = import.meta.url.endsWith(".js")
      ? new Worker(new URL("./renderWorker.js", import.meta.url))
      : new Worker(`import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(new URL("./renderWorker.ts", import.meta.url).href)}); });`, { eval: true });
    w.on("message", (m: { seq: number; html?: string | null; error?: string }) => {
      const p = waiting.get(m.seq);
      if (!p) return;
      waiting.delete(m.seq);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.html ?? null);
    });
    w.on("error", (err) => failAll(err));
    w.on("exit", (code) => failAll(new Error(`the render worker stopped (exit ${code})`)));
    // The server's own lifetime decides the process's: an idle worker does not keep it alive.
    w.unref();
    return w;
  };
  return {
    render(req) {
      worker ??= start();
      const id = ++seq;
      const w = worker;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ seq: id, req });
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      waiting.clear();
      if (w) await w.terminate();
    },
  };
}
