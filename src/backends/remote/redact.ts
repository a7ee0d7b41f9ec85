// One redaction for every text a server can put into our messages, logs and stored errors. Servers echo what they
// received (a 401 quoting the Authorization header, a proxy printing the URL), so the secrets we sent come back in
// the forms we sent them: the API key as `Bearer KEY`, URL userinfo as `Basic base64(user:password)` and in the URL
// itself, raw or percent-encoded. Every form of every secret is replaced by `***`, and any Bearer/Basic credential
// is hidden whatever its value (a server may quote one we did not send, e.g. a proxy's own).

/** Secrets of one server connection: the API key and the userinfo of the base URL. */
export interface Secrets {
  apiKey?: string;
  baseUrl?: string;
}

const MASK = "***";

/** Builds the redaction function for `secrets`; the same function is used for every message about that server. */
export function redactor(secrets: Secrets): (text: string) => string {
  const values = new Set<string>();
  const add = (v: string | undefined) => {
    // Shorter values would erase ordinary words of the message; a 1–3 character password is no secret anyway.
    if (!v || v.length < 4) return;
    values.add(v);
    for (const form of [encodeURIComponent(v), safeDecode(v), Buffer.from(v).toString("base64"), Buffer.from(v).toString("base64url"), Buffer.from(v).toString("base64").replace(/=+$/, "")]) {
      if (form && form.length >= 4) values.add(form);
    }
  };
  add(secrets.apiKey);
  if (secrets.baseUrl) {
    const info = userinfo(secrets.baseUrl);
    if (info) {
      add(info.password);
      add(safeDecode(info.password));
      if (info.username || info.password) {
        // What RemoteClient sends as Basic credentials (decoded user:password), and the userinfo as written.
        add(`${safeDecode(info.username)}:${safeDecode(info.password)}`);
        add(`${info.username}:${info.password}`);
      }
    }
  }
  // Longest first, so that a secret containing another is replaced whole.
  const ordered = [...values].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const v of ordered) out = out.split(v).join(MASK);
    // Credentials in any header form, and userinfo in any URL the server quotes.
    out = out.replace(/\b(Bearer|Basic)(\s+|%20|\+)[A-Za-z0-9+/=._~%-]+/gi, `$1$2${MASK}`);
    out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]*@/gi, `$1${MASK}@`);
    return out;
  };
}

function userinfo(url: string): { username: string; password: string } | undefined {
  try {
    const u = new URL(url);
    return { username: u.username, password: u.password };
  } catch {
    // An invalid URL still may carry userinfo between "//" and "@".
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(url);
    if (!m) return undefined;
    const [username = "", password = ""] = m[1]!.split(/:(.*)/s);
    return { username, password };
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Removes userinfo (user:password@) from a URL so that it can be printed. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}
