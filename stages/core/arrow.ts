/**
 * Zero-copy conversion between pipeline batches (typed-array columns) and
 * Arrow record batches. Primitive columns share their buffers; list columns
 * map to Arrow List (offsets + child values); Bool columns are bit-packed from
 * Uint8Array (0/1) on the way out and unpacked on the way in; Utf8 columns are
 * string[]. Nullable columns absent from a batch are left out of the record
 * batch (no null-filled padding is invented).
 */
import * as arrow from 'apache-arrow';
import type { Batch, Column, ListColumn, NumericColumn } from './batch.js';
import { isListColumn } from './batch.js';
import { TABLE_SCHEMAS } from '../../schemas/tables.js';

function primitiveTypeOf(c: NumericColumn): arrow.DataType {
  if (c instanceof Int32Array) return new arrow.Int32();
  if (c instanceof Float32Array) return new arrow.Float32();
  if (c instanceof Float64Array) return new arrow.Float64();
  if (c instanceof BigInt64Array) return new arrow.Int64();
  if (c instanceof Int8Array) return new arrow.Int8();
  if (c instanceof Uint8Array) return new arrow.Uint8();
  if (c instanceof Int16Array) return new arrow.Int16();
  if (c instanceof Uint32Array) return new arrow.Uint32();
  throw new Error(`unsupported column type ${(c as object).constructor.name}`);
}

function packBits(u8: Uint8Array): Uint8Array {
  const out = new Uint8Array((u8.length + 7) >> 3);
  for (let i = 0; i < u8.length; i++) if (u8[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function utf8Data(values: string[]): arrow.Data {
  return arrow.vectorFromArray(values, new arrow.Utf8()).data[0]!;
}

function columnData(name: string, c: Column, wanted: arrow.DataType | undefined): arrow.Data {
  if (Array.isArray(c)) return utf8Data(c);
  if (isListColumn(c)) {
    const childType = primitiveTypeOf(c.values);
    const child = arrow.makeData({ type: childType, length: c.values.length, nullCount: 0, data: c.values } as never);
    const type = new arrow.List(new arrow.Field('item', childType, false));
    return arrow.makeData({ type, length: c.offsets.length - 1, nullCount: 0, valueOffsets: c.offsets, child });
  }
  if (wanted && arrow.DataType.isBool(wanted)) {
    if (!(c instanceof Uint8Array)) throw new Error(`column "${name}" is declared Bool and must be a Uint8Array`);
    return arrow.makeData({ type: new arrow.Bool(), length: c.length, nullCount: 0, data: packBits(c) });
  }
  const type = primitiveTypeOf(c);
  return arrow.makeData({ type, length: c.length, nullCount: 0, data: c } as never);
}

/**
 * Batch → Arrow RecordBatch. Columns follow the table's declared schema order
 * when the table is known; extra columns are appended.
 */
export function batchToArrow(batch: Batch): arrow.RecordBatch {
  const declared = TABLE_SCHEMAS[batch.table];
  const names = Object.keys(batch.columns);
  const ordered = declared
    ? [...declared.fields.map((f) => f.name).filter((n) => n in batch.columns), ...names.filter((n) => !declared.fields.some((f) => f.name === n))]
    : names;
  const fields: arrow.Field[] = [];
  const children: arrow.Data[] = [];
  for (const name of ordered) {
    const wanted = declared?.fields.find((f) => f.name === name);
    const data = columnData(name, batch.columns[name]!, wanted?.type);
    fields.push(new arrow.Field(name, data.type, wanted?.nullable ?? false));
    children.push(data);
  }
  const schema = new arrow.Schema(fields);
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: batch.numRows, nullCount: 0, children });
  return new arrow.RecordBatch(schema, struct);
}

export function batchesToTable(batches: Batch[]): arrow.Table {
  return new arrow.Table(batches.map(batchToArrow));
}

function unpackBits(bits: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const j = i + offset;
    out[i] = (bits[j >> 3]! >> (j & 7)) & 1;
  }
  return out;
}

function dataToColumn(name: string, d: arrow.Data): Column {
  if (d.nullCount > 0 && !arrow.DataType.isUtf8(d.type)) {
    throw new Error(`column "${name}" has ${d.nullCount} null value(s); pipeline columns must be complete`);
  }
  if (arrow.DataType.isUtf8(d.type) || arrow.DataType.isLargeUtf8(d.type)) {
    return Array.from(new arrow.Vector([d]) as Iterable<string | null>, (v) => v ?? '');
  }
  if (arrow.DataType.isDictionary(d.type)) {
    return Array.from(new arrow.Vector([d]) as Iterable<unknown>, (v) => String(v ?? ''));
  }
  if (arrow.DataType.isBool(d.type)) return unpackBits(d.values as Uint8Array, d.offset, d.length);
  if (arrow.DataType.isList(d.type)) {
    const child = d.children[0]!;
    const raw = d.valueOffsets as Int32Array;
    const start = raw[d.offset]!;
    const offsets = new Int32Array(d.length + 1);
    for (let i = 0; i <= d.length; i++) offsets[i] = raw[d.offset + i]! - start;
    const childCol = dataToColumn(`${name}.item`, child) as NumericColumn;
    const values = childCol.subarray(start, start + offsets[d.length]!) as NumericColumn;
    return { kind: 'list', offsets, values } satisfies ListColumn;
  }
  if (arrow.DataType.isTimestamp(d.type) || arrow.DataType.isDate(d.type)) {
    const v = d.values as BigInt64Array | Int32Array;
    return v.subarray(d.offset, d.offset + d.length) as NumericColumn;
  }
  const values = d.values as NumericColumn;
  if (!ArrayBuffer.isView(values)) throw new Error(`column "${name}" has unsupported Arrow type ${d.type}`);
  return values.subarray(d.offset, d.offset + d.length) as NumericColumn;
}

/** Arrow RecordBatch → Batch of the given logical table (zero-copy for primitives). */
export function arrowToBatch(rb: arrow.RecordBatch, table: string): Batch {
  const columns: Record<string, Column> = {};
  rb.schema.fields.forEach((f, i) => {
    const child = rb.data.children[i]!;
    columns[f.name] = dataToColumn(f.name, child);
  });
  return { table, numRows: rb.numRows, columns };
}

/** Guess the logical table from column names (used when reading files). */
export function guessTable(names: string[]): string {
  const has = (n: string) => names.includes(n);
  if (has('metric') && has('value')) return 'metrics';
  if (has('weight') && has('action')) return 'weighted_examples';
  if (has('action') && has('context')) return 'examples';
  if (has('user_id') && has('item_id')) return 'interactions';
  return 'unknown';
}
