/**
 * A JSON-serialisable form of a (small) batch, for checkpoint state that must
 * carry rows — the trailing trajectory a trajectory-level stage holds back
 * until its end is seen. Not meant for bulk data.
 */
import type { Batch, Column, NumericColumn } from '../core/batch.js';
import { isListColumn } from '../core/batch.js';

type JsonColumn =
  { type: 'string'; values: string[] } | { type: 'list'; offsets: number[]; values: JsonColumn } | { type: string; values: (number | string)[] };

export interface JsonBatch {
  table: string;
  numRows: number;
  columns: Record<string, JsonColumn>;
}

const CTORS: Record<string, new (values: ArrayLike<number>) => NumericColumn> = {
  Int8Array,
  Uint8Array,
  Int16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

function columnToJson(c: Column): JsonColumn {
  if (Array.isArray(c)) return { type: 'string', values: [...c] };
  if (isListColumn(c)) return { type: 'list', offsets: Array.from(c.offsets), values: columnToJson(c.values) };
  if (c instanceof BigInt64Array) return { type: 'BigInt64Array', values: Array.from(c, (v) => v.toString()) };
  // Float values survive JSON exactly (shortest round-trip representation).
  return { type: c.constructor.name, values: Array.from(c as ArrayLike<number>) };
}

function columnFromJson(name: string, j: JsonColumn): Column {
  if (j.type === 'string') return [...(j.values as string[])];
  if (j.type === 'list') {
    const l = j as { offsets: number[]; values: JsonColumn };
    return { kind: 'list', offsets: Int32Array.from(l.offsets), values: columnFromJson(name, l.values) as NumericColumn };
  }
  const values = (j as { values: (number | string)[] }).values;
  if (j.type === 'BigInt64Array') return BigInt64Array.from(values, (v) => BigInt(v));
  const Ctor = CTORS[j.type];
  if (!Ctor) throw new Error(`saved batch: column "${name}" has unknown type ${j.type}`);
  return new Ctor(values as number[]);
}

export function batchToJson(b: Batch): JsonBatch {
  const columns: Record<string, JsonColumn> = {};
  for (const [k, c] of Object.entries(b.columns)) columns[k] = columnToJson(c);
  return { table: b.table, numRows: b.numRows, columns };
}

export function batchFromJson(j: JsonBatch): Batch {
  if (typeof j !== 'object' || j === null || typeof j.numRows !== 'number' || typeof j.columns !== 'object') {
    throw new Error('saved batch: expected { table, numRows, columns }');
  }
  const columns: Record<string, Column> = {};
  for (const [k, c] of Object.entries(j.columns)) columns[k] = columnFromJson(k, c);
  return { table: j.table, numRows: j.numRows, columns };
}
