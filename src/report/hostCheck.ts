// DNS rebinding defence for `ptalign view`: a web page on attacker.example can make its own name resolve to
// 127.0.0.1 and then read our server as same-origin — but its requests still carry `Host: attacker.example`.
// Rebinding needs a name, so IP literals are safe to accept; names are accepted only when they are loopback names
// or the host the user gave with --host. The port must be the one we are bound to.
import { isIP } from "node:net";

const LOOPBACK_NAMES = new Set(["localhost", "localhost."]);

/** Whether a request's Host header names this server (bound on `port`, `given` = the --host value if any). */
export function hostAllowed(header: string | undefined, port: number, given?: string): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(header.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  const portGiven = m[2] === undefined ? 80 : Number(m[2]);
  if (portGiven !== port) return false;
  const bare = name.startsWith("[") ? name.slice(1, -1) : name;
  if (isIP(bare) !== 0) return true;
  if (LOOPBACK_NAMES.has(name)) return true;
  return given !== undefined && name === given.toLowerCase().replace(/^\[|\]$/g, "");
}
