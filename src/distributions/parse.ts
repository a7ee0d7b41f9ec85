// DIST text → Target, validation, and the reverse (map syntax, human words). Every failure is an InputError whose
// message is one line: what is wrong, then what to do (the CLI prints it and exits 2).
import { InputError } from "../errors.ts";
import { normalise } from "../rng.ts";
import type { Target } from "../types.ts";
import { FAMILY_NAMES, FAMILY_SIGNATURES, PRESET_NAMES, family, preset } from "./families.ts";
import type { FamilyName, PresetName } from "./families.ts";
import { CONTINUOUS_NAMES, continuousSignature, continuousTarget, isContinuousName } from "./continuous.ts";
import { BADDICE_NAMES, baddice } from "./baddice.ts";

/** How far the probabilities may sum from 1 before the target is rejected (or rescaled with normalize). */
export const SUM_TOLERANCE = 1e-6;

export interface ParseOptions {
  /** Rescale probabilities that do not sum to 1 instead of rejecting them (a sum of 0 is still an error). */
  normalize?: boolean;
  /** Decimals a continuous family is written with when its DIST gives no precision= (the CLI's --precision). */
  precision?: number;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;
const FAMILY_RE = /^([A-Za-z_]\w*)\s*\(([^()]*)\)$/s;

const UNKNOWN_HINT =
  `expected a map like {1:0.1,2:0.9}, a family (${FAMILY_NAMES.join(", ")}), a continuous family (${CONTINUOUS_NAMES.join(", ")}), a preset (${PRESET_NAMES.join(", ")}) or baddice:NAME`;

/** Parses a DIST: a map `{1:0.1,2:0.9}` (or JSON object text), a family `binomial(10,0.5)` or a preset `extreme`. */
export function parseDist(text: string, opts: ParseOptions = {}): Target {
  const src = text.trim();
  if (src === "") throw new InputError(`empty distribution text: ${UNKNOWN_HINT}`);
  let target: Target;
  if (src.startsWith("{")) target = parseMap(src);
  else {
    const lower = src.toLowerCase();
    const m = FAMILY_RE.exec(src);
    if ((PRESET_NAMES as readonly string[]).includes(lower)) target = preset(lower as PresetName);
    else if (lower.startsWith("baddice:")) {
      const name = lower.slice("baddice:".length).trim();
      const text = baddice(name);
      if (text === undefined) throw new InputError(`unknown preset ${JSON.stringify(src)}: the bad-dice presets are baddice:${BADDICE_NAMES.join(", baddice:")}`);
      return parseDist(text, opts);
    } else if (m && isFamily(m[1]!.toLowerCase())) target = parseFamily(m[1]!.toLowerCase() as FamilyName, m[2]!, src, opts);
    else if (isFamily(lower)) {
      const sig = signature(lower);
      throw new InputError(`${src} needs arguments: ${sig.usage}, e.g. ${sig.example}`);
    } else throw new InputError(`unknown distribution ${JSON.stringify(src)}: ${UNKNOWN_HINT}`);
  }
  return validateTarget(target, opts);
}

/**
 * Checks a Target against the DIST rules (non-empty support, non-empty unique answers, finite probabilities ≥ 0
 * summing to 1 within SUM_TOLERANCE) and returns it, rescaled when opts.normalize is set. Also for targets read back
 * from JSON.
 */
export function validateTarget(t: Target, opts: ParseOptions = {}): Target {
  if (t.support.length === 0) throw new InputError(`empty distribution: give at least one answer, e.g. {1:0.5,2:0.5}`);
  if (t.support.length !== t.probs.length) {
    throw new InputError(`distribution has ${t.support.length} answers but ${t.probs.length} probabilities; give one probability per answer`);
  }
  const seen = new Set<string>();
  // Equal after NFC normalisation ("é" as U+00E9 and as e + U+0301): one text to a reader, two byte strings to the
  // tokenizer; scored as two answers they split one answer's probability between them.
  const canonical = new Map<string, string>();
  const codes = (k: string) => [...k].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
  t.support.forEach((key, i) => {
    if (key.trim() === "") throw new InputError(`answer #${i + 1} is empty; every answer needs at least one visible character`);
    if (seen.has(key)) throw new InputError(`duplicate answer ${JSON.stringify(key)}; list each answer once`);
    seen.add(key);
    const nfc = key.normalize("NFC");
    const other = canonical.get(nfc);
    if (other !== undefined) throw new InputError(`answers ${JSON.stringify(other)} (${codes(other)}) and ${JSON.stringify(key)} (${codes(key)}) are the same text after Unicode normalisation (NFC); list it once, in one spelling`);
    canonical.set(nfc, key);
  });
  let sum = 0;
  t.probs.forEach((p, i) => {
    const name = JSON.stringify(t.support[i]);
    if (!Number.isFinite(p)) throw new InputError(`probability of ${name} is ${p}; probabilities must be finite numbers`);
    if (p < 0) throw new InputError(`probability of ${name} is ${p}; probabilities must be ≥ 0`);
    sum += p;
  });
  if (sum === 0) throw new InputError(`probabilities sum to 0; give at least one answer a positive probability`);
  const extra = t.continuous ? { continuous: t.continuous } : {};
  if (opts.normalize) return { support: [...t.support], probs: normalise(t.probs), ...extra };
  if (Math.abs(sum - 1) > SUM_TOLERANCE) {
    throw new InputError(`probabilities sum to ${formatNumber(sum)}, expected 1 (use --normalize)`);
  }
  return { support: [...t.support], probs: [...t.probs], ...extra };
}

/** The map syntax, e.g. `{1:0.1,2:0.7}`; parseDist(formatDist(t)) gives back t exactly (numbers print as the shortest exact decimal). */
export function formatDist(t: Target): string {
  const entries = t.support.map((key, i) => `${formatKey(key)}:${String(t.probs[i])}`);
  return `{${entries.join(",")}}`;
}

/**
 * Human words for prompts: `"1" with probability 0.1, "2" with probability 0.7`; probabilities to 6 significant digits.
 * A continuous target is named by its family and parameters instead of its (many) bins.
 */
export function describeDist(t: Target): string {
  const c = t.continuous;
  if (c) {
    const params = Object.entries(c.params).map(([k, v]) => `${k} = ${formatNumber(v)}`).join(", ");
    return `the continuous ${c.family.replace("_", " ")} distribution with ${params}, each value written with ${c.precision} decimal${c.precision === 1 ? "" : "s"}`;
  }
  return t.support.map((key, i) => `${JSON.stringify(key)} with probability ${formatNumber(t.probs[i]!, 6)}`).join(", ");
}

/** The {{support}} and {{example}} words of a prompt: the answers and three of them, or for a continuous target its range and three values near its quartiles. */
export function promptWords(t: Target): { supportText?: string; example?: string } {
  const c = t.continuous;
  if (!c) return {}; // the prompt lists the answers themselves
  const cum: number[] = [];
  t.probs.reduce((s, p, i) => ((cum[i] = s + p), s + p), 0);
  const at = (q: number): string => t.support[Math.max(0, cum.findIndex((v) => v >= q))]!;
  const lo = t.support[0]!;
  const hi = t.support[t.support.length - 1]!;
  return { supportText: `numbers with ${c.precision} decimal${c.precision === 1 ? "" : "s"} from ${lo} to ${hi}`, example: [0.2, 0.5, 0.8].map((q) => `${at(q)},`).join(" ") };
}

/** A number without float noise (0.1 + 0.2 → "0.3"), to `digits` significant digits. */
export function formatNumber(x: number, digits = 12): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

function isFamily(name: string): boolean {
  return (FAMILY_NAMES as readonly string[]).includes(name) || isContinuousName(name);
}

function signature(name: string): { params: readonly string[]; usage: string; example: string } {
  return isContinuousName(name) ? continuousSignature(name) : FAMILY_SIGNATURES[name as FamilyName];
}

function formatKey(key: string): string {
  // Quote anything the unquoted form would split on, trim or mistake for a quote; JSON escapes round-trip through parseMap.
  return /^$|[\s,:{}"'\\]/.test(key) ? JSON.stringify(key) : key;
}

function parseFamily(name: string, argText: string, label: string, opts: ParseOptions): Target {
  const sig = signature(name);
  const usage = `usage ${sig.usage}, e.g. ${sig.example}`;
  const parts = argText.split(",").map((s) => s.trim());
  if (parts.length === 1 && parts[0] === "") throw new InputError(`${label} needs arguments: ${usage}`);
  const args: Record<string, number> = {};
  let positional = 0;
  parts.forEach((part, i) => {
    if (part === "") throw new InputError(`${label}: argument ${i + 1} is empty; ${usage}`);
    let param: string;
    let valueText: string;
    const eq = part.indexOf("=");
    if (eq >= 0) {
      param = part.slice(0, eq).trim().toLowerCase();
      valueText = part.slice(eq + 1).trim();
      if (!sig.params.includes(param)) throw new InputError(`${label}: unknown argument ${JSON.stringify(param)}; ${usage}`);
    } else {
      if (positional >= sig.params.length) {
        throw new InputError(`${label}: expected at most ${sig.params.length} arguments, got ${parts.length}; ${usage}`);
      }
      param = sig.params[positional++]!;
      valueText = part;
    }
    if (args[param] !== undefined) throw new InputError(`${label}: ${param} is given twice; ${usage}`);
    if (!NUMBER_RE.test(valueText)) throw new InputError(`${label}: ${param} is ${JSON.stringify(valueText)}, not a number; ${usage}`);
    args[param] = Number(valueText);
  });
  return isContinuousName(name) ? continuousTarget(name, args, label, opts.precision) : family(name as FamilyName, args, label);
}

/** A hand-written scanner rather than JSON.parse: JSON.parse reorders integer-like keys and silently drops duplicates. */
function parseMap(src: string): Target {
  const support: string[] = [];
  const probs: number[] = [];
  const n = src.length;
  let i = 1;
  const skipWs = (): void => {
    while (i < n && /\s/.test(src[i]!)) i++;
  };
  const unclosed = (): InputError => new InputError(`missing "}" at the end of ${src}; close the map with "}"`);
  skipWs();
  if (src[i] === "}") {
    i++;
    skipWs();
    if (i < n) throw new InputError(`unexpected text after "}": ${JSON.stringify(src.slice(i))}; remove it`);
    throw new InputError(`empty distribution: give at least one answer, e.g. {1:0.5,2:0.5}`);
  }
  for (;;) {
    skipWs();
    let key: string;
    const q = src[i];
    if (q === '"') {
      let j = i + 1;
      while (j < n && src[j] !== '"') j += src[j] === "\\" ? 2 : 1;
      if (j >= n) throw new InputError(`unterminated quoted answer at position ${i + 1}; close it with "`);
      const raw = src.slice(i, j + 1);
      try {
        key = JSON.parse(raw) as string;
      } catch {
        throw new InputError(`bad escape in quoted answer ${raw}; use JSON escapes such as \\" or \\\\, or quote with '...'`);
      }
      i = j + 1;
    } else if (q === "'") {
      const j = src.indexOf("'", i + 1);
      if (j < 0) throw new InputError(`unterminated quoted answer at position ${i + 1}; close it with '`);
      key = src.slice(i + 1, j);
      i = j + 1;
    } else {
      let j = i;
      while (j < n && !":,{}".includes(src[j]!)) j++;
      key = src.slice(i, j).trim();
      i = j;
    }
    if (key.trim() === "") {
      if (q !== '"' && q !== "'" && src[i] === "}" && support.length > 0) {
        throw new InputError(`trailing "," before "}"; remove it`);
      }
      throw new InputError(`answer #${support.length + 1} is empty; every answer needs at least one visible character`);
    }
    const name = JSON.stringify(key);
    skipWs();
    if (i >= n) throw unclosed();
    if (src[i] !== ":") {
      throw new InputError(
        `expected ":" after answer ${name}, found ${JSON.stringify(src[i])}; write answer:probability and quote answers containing , : { or }`,
      );
    }
    i++;
    let j = i;
    while (j < n && src[j] !== "," && src[j] !== "}") j++;
    const valueText = src.slice(i, j).trim();
    i = j;
    if (valueText === "") throw new InputError(`answer ${name} has no probability after ":"; write e.g. ${formatKey(key)}:0.5`);
    support.push(key);
    probs.push(parseProbability(name, valueText));
    if (i >= n) throw unclosed();
    if (src[i] === ",") {
      i++;
      continue;
    }
    i++; // "}"
    skipWs();
    if (i < n) throw new InputError(`unexpected text after "}": ${JSON.stringify(src.slice(i))}; remove it`);
    return { support, probs };
  }
}

function parseProbability(name: string, text: string): number {
  if (NON_FINITE_RE.test(text)) throw new InputError(`probability of ${name} is ${text}; probabilities must be finite numbers`);
  if (!NUMBER_RE.test(text)) {
    throw new InputError(`probability of ${name} is ${JSON.stringify(text)}, not a number; write decimals such as 0.1, .5 or 1e-3`);
  }
  // Range and finiteness (e.g. 1e999) are checked with every other syntax in validateTarget.
  return Number(text);
}
