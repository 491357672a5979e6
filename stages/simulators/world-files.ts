/**
 * Parquet tables of simulator truth: one row per entity (user or item) with
 * its 1-based id, a vector as list<float32>, and scalar columns. The padding
 * row 0 is never written; in memory, row r of a matrix belongs to id r and
 * row 0 stays zero. Shared by the RecSim and ratings worlds.
 */
import * as fs from 'node:fs';
import type { Batch, Column, NumericColumn } from '../core/batch.js';
import { isListColumn, isNumericColumn } from '../core/batch.js';
import { readParquetAll, writeParquetFile } from '../io/parquet.js';

export interface EntityTableSpec {
  /** Logical table name stored with the batch (recsim_items, ratings_users…). */
  table: string;
  /** Name of the id column (int32, 1..count). */
  idColumn: string;
  /** Number of entities: ids 1..count. */
  count: number;
  /** Name and width of the vector column (list<float32>). */
  vectorColumn: string;
  dim: number;
}

/**
 * Write ids 1..count with row r of `matrix` ([count+1 × dim], row 0 padding)
 * and `scalars[name][r]` (arrays of length count + 1, index 0 ignored).
 */
export function writeEntityTable(
  file: string,
  spec: EntityTableSpec,
  matrix: Float32Array,
  scalars: Record<string, Int32Array | Float64Array | Float32Array>,
  metadata?: Record<string, string>,
): void {
  const { count, dim } = spec;
  if (matrix.length !== (count + 1) * dim) throw new Error(`${spec.table}: matrix has ${matrix.length} values, expected ${(count + 1) * dim}`);
  const ids = new Int32Array(count);
  for (let r = 1; r <= count; r++) ids[r - 1] = r;
  const offsets = new Int32Array(count + 1);
  for (let r = 0; r <= count; r++) offsets[r] = r * dim;
  const columns: Record<string, Column> = {
    [spec.idColumn]: ids,
    [spec.vectorColumn]: { kind: 'list', offsets, values: matrix.slice(dim) },
  };
  for (const [name, arr] of Object.entries(scalars)) {
    if (arr.length !== count + 1) throw new Error(`${spec.table}: column "${name}" has ${arr.length} values, expected ${count + 1}`);
    columns[name] = arr.slice(1) as NumericColumn;
  }
  const batch: Batch = { table: spec.table, numRows: count, columns };
  writeParquetFile(file, [batch], metadata ? { metadata } : {});
}

export interface EntityTable {
  matrix: Float32Array;
  scalars: Record<string, Float64Array | Int32Array>;
}

/**
 * Read a table written by writeEntityTable back into id-indexed arrays.
 * `scalars` names the scalar columns wanted and their in-memory type. Every
 * id 1..count must appear exactly once, and every vector must have `dim`
 * values; errors name the file.
 */
export async function readEntityTable(file: string, spec: EntityTableSpec, scalars: Record<string, 'float64' | 'int32'>): Promise<EntityTable> {
  if (!fs.existsSync(file)) throw new Error(`simulator truth file is missing: ${file}`);
  const { count, dim } = spec;
  const matrix = new Float32Array((count + 1) * dim);
  const out: Record<string, Float64Array | Int32Array> = {};
  for (const [name, type] of Object.entries(scalars)) out[name] = type === 'int32' ? new Int32Array(count + 1) : new Float64Array(count + 1);
  const seen = new Uint8Array(count + 1);
  let rows = 0;
  for (const b of await readParquetAll(file, { table: spec.table })) {
    const ids = b.columns[spec.idColumn];
    const vec = b.columns[spec.vectorColumn];
    if (!isNumericColumn(ids)) throw new Error(`${file}: column "${spec.idColumn}" is missing or not numeric`);
    if (!isListColumn(vec)) throw new Error(`${file}: column "${spec.vectorColumn}" is missing or not a list`);
    const cols: [string, NumericColumn][] = [];
    for (const name of Object.keys(scalars)) {
      const c = b.columns[name];
      if (!isNumericColumn(c)) throw new Error(`${file}: column "${name}" is missing or not numeric`);
      cols.push([name, c]);
    }
    for (let i = 0; i < b.numRows; i++) {
      const id = Number(ids[i]);
      if (!Number.isInteger(id) || id < 1 || id > count) throw new Error(`${file}: ${spec.idColumn} ${id} is outside 1..${count}`);
      if (seen[id]) throw new Error(`${file}: ${spec.idColumn} ${id} appears twice`);
      seen[id] = 1;
      const s = vec.offsets[i]!;
      const e = vec.offsets[i + 1]!;
      if (e - s !== dim) throw new Error(`${file}: ${spec.vectorColumn} of ${spec.idColumn} ${id} has ${e - s} values, expected ${dim}`);
      for (let k = 0; k < dim; k++) matrix[id * dim + k] = Number(vec.values[s + k]);
      for (const [name, c] of cols) out[name]![id] = Number(c[i]);
    }
    rows += b.numRows;
  }
  if (rows !== count) throw new Error(`${file}: ${rows} rows, expected ${count} (ids 1..${count})`);
  return { matrix, scalars: out };
}

/** Read and check a world's JSON description. */
export function readWorldJson(file: string, format: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new Error(`simulator world description is missing: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || (json as Record<string, unknown>).format !== format) {
    throw new Error(`${file}: not a ${format} description (field "format" must be "${format}")`);
  }
  return json as Record<string, unknown>;
}

/** A positive integer field of a world description, with an error naming it. */
export function intField(json: Record<string, unknown>, name: string, file: string, min = 1): number {
  const v = json[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new Error(`${file}: field "${name}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

export function numberField(json: Record<string, unknown>, name: string, file: string): number {
  const v = json[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: field "${name}" must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}
