// `ptalign view`: the report served live. GET / renders the report from the store (re-rendered only when the
// store's version changes); GET /version returns that version, which the page polls every 2 s to reload while a
// study is running. Binds 127.0.0.1 unless the caller passes another host explicitly.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostAllowed } from "./hostCheck.ts";
import { storeVersion } from "../store/read.ts";
import { startRenderer } from "./worker.ts";

/** Where the page loads a compact section's charts: /charts/<measurement id>. */
const CHARTS = "/charts/";

export interface ViewOptions {
  dir: string;
  port: number;
  host?: string;
}

export interface Viewer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export const LOOPBACK = "127.0.0.1";

export async function startViewer(opts: ViewOptions): Promise<Viewer> {
  const host = opts.host ?? LOOPBACK;
  let cached: { version: string; html: string } | undefined;
  let rendering: Promise<{ version: string; html: string }> | undefined;
  // Rendering (reading every measurement, the charts) happens in a worker thread: /version answers meanwhile.
  const renderer = startRenderer();

  const page = async () => {
    const version = await storeVersion(opts.dir);
    if (cached?.version === version) return cached;
    rendering ??= (async () => {
      try {
        const html = (await renderer.render({ kind: "page", dir: opts.dir, version, onDemand: CHARTS }))!;
        cached = { version, html };
        return cached;
      } finally {
        rendering = undefined;
      }
    })();
    return rendering;
  };

  // The bound port, kept: server.address() is null once close() has begun, while kept-alive connections still send.
  let port = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(body);
    };
    // DNS rebinding: a page on another name must not read the report through a name that resolves here.
    if (!hostAllowed(req.headers.host, port, opts.host)) return send(421, "text/plain", "misdirected request: this server answers only to its own address or localhost\n");
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/version") {
      storeVersion(opts.dir).then(
        (v) => send(200, "text/plain", v),
        (err: Error) => send(500, "text/plain", `${err.message}\n`),
      );
      return;
    }
    if (path === "/" || path === "/index.html") {
      page().then(
        (p) => send(200, "text/html", p.html),
        (err: Error) => send(500, "text/plain", `ptalign view: ${err.message}\n`),
      );
      return;
    }
    if (path?.startsWith(CHARTS)) {
      let id: string;
      try {
        id = decodeURIComponent(path.slice(CHARTS.length));
      } catch {
        return send(400, "text/plain", "bad measurement id\n");
      }
      renderer.render({ kind: "charts", dir: opts.dir, id }).then(
        (html) => (html === null ? send(404, "text/plain", "no such measurement\n") : send(200, "text/html", html)),
        (err: Error) => send(500, "text/plain", `ptalign view: ${err.message}\n`),
      );
      return;
    }
    send(404, "text/plain", "not found\n");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  port = addr.port;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${shown}:${addr.port}/`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await renderer.close();
    },
  };
}
