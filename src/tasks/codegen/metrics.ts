// Code-generation metrics: pass@k (unbiased estimator of Chen et al. 2021), program diversity after normalisation,
// token edit distance. Pure functions; docs/tasks.md carries every formula.

/**
 * pass@k from n samples of which c pass: 1 − C(n−c, k) / C(n, k), computed as 1 − Π_{i=n−c+1..n} (1 − k/i)
 * (no large binomials). null when k > n (the estimator is undefined).
 */
export function passAtK(n: number, c: number, k: number): number | null {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 0 || c < 0 || c > n || k < 1) {
    throw new RangeError(`passAtK needs integers 0 ≤ c ≤ n and k ≥ 1 (got n=${n}, c=${c}, k=${k})`);
  }
  if (k > n) return null;
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

const PUNCT = [">>>=", "===", "!==", "**=", "<<=", ">>=", ">>>", "...", "&&=", "||=", "??=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>"];

/**
 * JavaScript tokens of `code` with comments and whitespace dropped: identifiers and keywords, numbers, string,
 * template and regular-expression literals (kept whole), operators and punctuation. A light lexer: enough to
 * compare programs, not to parse them.
 */
export function jsTokens(code: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = code.length;
  const regexAllowed = () => {
    const prev = out.at(-1);
    if (prev === undefined) return true;
    if (/^[\w$]/.test(prev) && !/^(return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(prev)) return false;
    return !/^[)\]'"`]/.test(prev);
  };
  while (i < n) {
    const c = code[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && code[i + 1] === "/") {
      while (i < n && code[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && code[i + 1] === "*") {
      const end = code.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(code[j]!)) j++;
      out.push(code.slice(i, j));
      i = j;
      continue;
    }
    if (/\d/.test(c) || (c === "." && /\d/.test(code[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(code[j]!)) j++;
      out.push(code.slice(i, j));
      i = j;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < n && code[j] !== c) j += code[j] === "\\" ? 2 : 1;
      out.push(code.slice(i, Math.min(n, j + 1)));
      i = j + 1;
      continue;
    }
    if (c === "/" && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && code[j] !== "\n" && (inClass || code[j] !== "/")) {
        if (code[j] === "\\") j++;
        else if (code[j] === "[") inClass = true;
        else if (code[j] === "]") inClass = false;
        j++;
      }
      j++;
      while (j < n && /[a-z]/.test(code[j]!)) j++;
      out.push(code.slice(i, j));
      i = j;
      continue;
    }
    const op = PUNCT.find((p) => code.startsWith(p, i));
    out.push(op ?? c);
    i += op ? op.length : 1;
  }
  return out;
}

/** The program with comments and whitespace differences removed: its tokens joined by one space. */
export function normalizeProgram(code: string): string {
  return jsTokens(code).join(" ");
}

/** Levenshtein distance between two token sequences (unit costs). */
export function editDistance(a: readonly string[], b: readonly string[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Token edit distance divided by the longer length: 0 = same tokens, 1 = nothing in common; 0 for two empty programs. */
export function normalizedEditDistance(a: readonly string[], b: readonly string[]): number {
  const m = Math.max(a.length, b.length);
  return m === 0 ? 0 : editDistance(a, b) / m;
}

export interface Diversity {
  /** Distinct normalised programs among the passing samples. */
  distinct_passing: number;
  /** Distinct normalised programs among the failing samples. */
  distinct_failing: number;
  /** Mean normalised token edit distance over all pairs of samples; null with fewer than 2 samples. */
  edit_distance: number | null;
}

export function diversity(samples: readonly { completion: string; passed: boolean }[]): Diversity {
  const tokens = samples.map((s) => jsTokens(s.completion));
  const pass = new Set<string>();
  const fail = new Set<string>();
  samples.forEach((s, i) => (s.passed ? pass : fail).add(tokens[i]!.join(" ")));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < tokens.length; i++) {
    for (let j = i + 1; j < tokens.length; j++) {
      sum += normalizedEditDistance(tokens[i]!, tokens[j]!);
      pairs++;
    }
  }
  return { distinct_passing: pass.size, distinct_failing: fail.size, edit_distance: pairs ? sum / pairs : null };
}

/** Sample standard deviation (n − 1); null for fewer than two values; exactly 0 when all values are equal. */
export function sampleSd(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  // Identical runs: the mean of equal floats can differ from them in the last bit (1.4e-16 instead of 0).
  if (xs.every((x) => x === xs[0])) return 0;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
