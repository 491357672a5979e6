/**
 * Numbers JSON cannot carry (NaN, ±Infinity), for values that cross a process
 * boundary or sit in a marker file: encoded as {"$num": "NaN"} and decoded
 * back, anywhere in a JSON value.
 */
const KEY = '$num';

export function encodeJsonValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { [KEY]: String(v) };
  if (Array.isArray(v)) return v.map(encodeJsonValue);
  if (v && typeof v === 'object') {
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, encodeJsonValue);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeJsonValue(x);
    return out;
  }
  return v;
}

export function decodeJsonValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeJsonValue);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === KEY && typeof o[KEY] === 'string') return Number(o[KEY]);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = decodeJsonValue(x);
    return out;
  }
  return v;
}
