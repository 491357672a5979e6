/**
 * The top-level keys of one JSON object text, in order, with where each
 * value starts and ends. JSON.parse keeps only the last of repeated keys and
 * turns 1e-400 into 0 without a word; this scan lets the JSONL parser see
 * both. It assumes the text is valid JSON (JSON.parse accepted it first).
 */

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

export interface TopLevelKeys {
  keys: string[];
  /** Value of key k: text.slice(valueStart[k], valueEnd[k]) (without surrounding blanks). */
  valueStart: number[];
  valueEnd: number[];
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Index just past the string that starts with the quote at `i`. */
function skipString(text: string, i: number): number {
  i++;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    i += c === BACKSLASH ? 2 : 1;
  }
}

/** Index just past the value that starts at `i` (an object, array, string or scalar). */
function skipValue(text: string, i: number): number {
  const c0 = text.charCodeAt(i);
  if (c0 === QUOTE) return skipString(text, i);
  if (c0 === OPEN_BRACE || c0 === OPEN_BRACKET) {
    let depth = 0;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i = skipString(text, i);
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
  }
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || isBlank(c)) break;
    i++;
  }
  return i;
}

/** Keys of the top-level object of `text` (valid JSON whose value is an object). */
export function topLevelKeys(text: string): TopLevelKeys {
  const out: TopLevelKeys = { keys: [], valueStart: [], valueEnd: [] };
  let i = text.indexOf('{') + 1;
  for (;;) {
    while (isBlank(text.charCodeAt(i)) || text.charCodeAt(i) === COMMA) i++;
    if (text.charCodeAt(i) !== QUOTE) return out; // "}"
    const ks = i;
    i = skipString(text, i);
    const raw = text.slice(ks + 1, i - 1);
    out.keys.push(raw.includes('\\') ? (JSON.parse(text.slice(ks, i)) as string) : raw);
    while (text.charCodeAt(i) !== COLON) i++;
    i++;
    while (isBlank(text.charCodeAt(i))) i++;
    out.valueStart.push(i);
    i = skipValue(text, i);
    out.valueEnd.push(i);
  }
}

/** Positions (0-based, in key order) of the first key that occurs twice, or null. */
export function firstRepeatedKey(keys: readonly string[], only?: ReadonlySet<string>): { key: string; first: number; second: number } | null {
  for (let j = 1; j < keys.length; j++) {
    const k = keys[j]!;
    if (only && !only.has(k)) continue;
    const first = keys.indexOf(k);
    if (first < j) return { key: k, first, second: j };
  }
  return null;
}
