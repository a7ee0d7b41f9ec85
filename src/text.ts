// Text files as ptalign reads them: UTF-8, a leading byte-order mark dropped (Windows editors write one, and JSON.parse
// then fails on the first character), invalid UTF-8 refused. Node's "utf8" decoding silently turns a Latin-1 "é" into
// U+FFFD, so a prompt written in another encoding reached the model altered without a word.
import { InputError } from "./errors.ts";

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let n: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    else if (b >= 0xc2 && b <= 0xdf) { n = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    if (i + n >= bytes.length) return i; // cut off at the end of the file
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * The text of a file's bytes: UTF-8 without its byte-order mark. Invalid UTF-8 is an InputError naming the file, the
 * byte offset and what to do (`what` says what the file is: "prompt file", "problems file").
 */
export function decodeUtf8(bytes: Uint8Array, file: string, what = "file"): string {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  const bad = invalidUtf8Offset(body);
  if (bad >= 0) {
    const at = bad + start;
    throw new InputError(`${what} ${file} is not UTF-8 (byte 0x${bytes[at]!.toString(16).padStart(2, "0")} at offset ${at}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 ${file})`);
  }
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}
