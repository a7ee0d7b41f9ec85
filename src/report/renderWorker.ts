// The worker thread of `view` (started by worker.ts): renders what the server asks for, one request at a time, and
// posts back the HTML or the error's message. Nothing here touches the network.

import { parentPort } from "node:worker_threads";
import { render, type RenderRequest } from "./render.ts";

parentPort!.on("message", (msg: { seq: number; req: RenderRequest }) => {
  render(msg.req).then(
    (html) => parentPort!.postMessage({ seq: msg.seq, html }),
    (err: unknown) => parentPort!.postMessage({ seq: msg.seq, error: err instanceof Error ? err.message.split("\n")[0] : String(err) }),
  );
});
