/**
 * Partition a value column by a split column, columnar: one counting pass over
 * the codes, one scatter pass into one typed array per split present. Codes
 * are the int8 split codes of schemas/tables.ts (0 train, 1 valid, 2 test;
 * other integers in −128..127 keep their number as name); a string[] split
 * column is used by name.
 */
import type { Column } from '../core/batch.js';
import { isListColumn } from '../core/batch.js';
import { SPLIT_NAMES } from '../../schemas/tables.js';
import type { FloatColumn } from './moments.js';

export function splitName(code: number): string {
  return SPLIT_NAMES[code as 0 | 1 | 2] ?? String(code);
}

/** Values grouped by split name; a batch of one split returns the column itself. */
export function partitionBySplit(values: FloatColumn, split: Column): Map<string, FloatColumn> {
  const n = values.length;
  const out = new Map<string, FloatColumn>();
  if (n === 0) return out;
  if (isListColumn(split)) throw new Error('the split column must hold one code per row, not lists');
  if (Array.isArray(split)) {
    const byName = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      let g = byName.get(split[i]!);
      if (!g) byName.set(split[i]!, (g = []));
      g.push(values[i]!);
    }
    for (const [k, v] of byName) out.set(k, Float64Array.from(v));
    return out;
  }
  if (split instanceof BigInt64Array) throw new Error('the split column must be a small integer code (int8), not int64');
  const codes = split as Exclude<typeof split, BigInt64Array | string[]>;
  const counts = new Int32Array(256);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (!(c >= -128 && c <= 127) || c !== Math.floor(c)) throw new Error(`split code ${c} at row ${i} is not an integer in −128..127`);
    counts[c + 128]!++;
  }
  const present: number[] = [];
  for (let c = 0; c < 256; c++) if (counts[c]! > 0) present.push(c);
  if (present.length === 1) {
    out.set(splitName(present[0]! - 128), values);
    return out;
  }
  const Ctor = values instanceof Float32Array ? Float32Array : Float64Array;
  const buckets: FloatColumn[] = new Array(256);
  const fill = new Int32Array(256);
  for (const c of present) buckets[c] = new Ctor(counts[c]!);
  for (let i = 0; i < n; i++) {
    const c = codes[i]! + 128;
    buckets[c]![fill[c]!++] = values[i]!;
  }
  for (const c of present) out.set(splitName(c - 128), buckets[c]!);
  return out;
}
