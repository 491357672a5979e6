/**
 * The unit that flows through every pipeline: a columnar batch of rows.
 *
 * Columns are typed arrays (never one object per row), so a batch of 64K rows
 * costs highland one item. Variable-length columns (a context of previous item
 * ids) use Arrow's list layout: `offsets` of length numRows + 1 into `values`.
 * String columns exist only before vocabulary mapping (raw ids) and in small
 * tables such as metric records.
 */

export type NumericColumn = Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;

/** Arrow-style list column: row i spans values[offsets[i] .. offsets[i+1]). */
export interface ListColumn<V extends NumericColumn = NumericColumn> {
  kind: 'list';
  offsets: Int32Array;
  values: V;
}

export type Column = NumericColumn | ListColumn | string[];

/** Name of the logical table a batch belongs to (see schemas/tables.ts). */
export type TableName = 'interactions' | 'examples' | 'weighted_examples' | 'metrics' | string;

export interface Batch {
  /** Logical table (schema) the columns follow. */
  table: TableName;
  numRows: number;
  columns: Record<string, Column>;
  /** Free-form per-batch facts (source file, partition, epoch, batch index…). */
  meta?: Record<string, unknown>;
}

export function isListColumn(c: Column | undefined): c is ListColumn {
  return typeof c === 'object' && c !== null && !Array.isArray(c) && (c as ListColumn).kind === 'list';
}

export function isNumericColumn(c: Column | undefined): c is NumericColumn {
  return ArrayBuffer.isView(c as ArrayBufferView) && !(c instanceof DataView);
}

/** Fetch a column, with an error that names the batch's table and what exists. */
export function column<T extends Column = Column>(batch: Batch, name: string): T {
  const c = batch.columns[name];
  if (c === undefined) {
    throw new Error(`column "${name}" is missing from a "${batch.table}" batch (has: ${Object.keys(batch.columns).join(', ') || 'none'})`);
  }
  return c as T;
}

export function numericColumn(batch: Batch, name: string): NumericColumn {
  const c = column(batch, name);
  if (!isNumericColumn(c)) throw new Error(`column "${name}" of a "${batch.table}" batch is not numeric`);
  return c;
}

/** Rewards as float64 regardless of how they are stored (math runs in double). */
export function float64Column(batch: Batch, name: string): Float64Array {
  const c = numericColumn(batch, name);
  if (c instanceof Float64Array) return c;
  if (c instanceof BigInt64Array) return Float64Array.from(c, (v) => Number(v));
  return Float64Array.from(c as ArrayLike<number>);
}

/** Rows [start, end) of a batch; typed arrays are views, not copies. */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const columns: Record<string, Column> = {};
  for (const [name, c] of Object.entries(batch.columns)) {
    if (Array.isArray(c)) columns[name] = c.slice(start, end);
    else if (isListColumn(c)) {
      const o0 = c.offsets[start]!;
      const offs = new Int32Array(end - start + 1);
      for (let i = 0; i <= end - start; i++) offs[i] = c.offsets[start + i]! - o0;
      columns[name] = { kind: 'list', offsets: offs, values: c.values.subarray(o0, c.offsets[end]!) as NumericColumn };
    } else columns[name] = (c as NumericColumn).subarray(start, end) as NumericColumn;
  }
  return { table: batch.table, numRows: end - start, columns, meta: batch.meta ? { ...batch.meta } : undefined };
}

/** Copy `src` into `dst` at `offset`; both hold numbers or both hold bigints (columns of one name share a type). */
function copyInto(dst: NumericColumn, src: NumericColumn, offset: number): void {
  if (dst instanceof BigInt64Array || src instanceof BigInt64Array) {
    if (!(dst instanceof BigInt64Array && src instanceof BigInt64Array)) throw new TypeError('copyInto: an int64 column cannot be mixed with a number column');
    dst.set(src, offset);
  } else dst.set(src, offset);
}

/** Concatenate batches of one table (same column names and types). */
export function concatBatches(batches: Batch[]): Batch {
  if (batches.length === 0) throw new Error('concatBatches: no batches');
  if (batches.length === 1) return batches[0]!;
  const first = batches[0]!;
  const numRows = batches.reduce((s, b) => s + b.numRows, 0);
  const columns: Record<string, Column> = {};
  for (const name of Object.keys(first.columns)) {
    const parts = batches.map((b) => column(b, name));
    const c0 = parts[0]!;
    if (Array.isArray(c0)) columns[name] = (parts as string[][]).flat();
    else if (isListColumn(c0)) {
      const lists = parts as ListColumn[];
      const nValues = lists.reduce((s, l) => s + l.values.length, 0);
      const Ctor = c0.values.constructor as new (n: number) => NumericColumn;
      const values = new Ctor(nValues);
      const offsets = new Int32Array(numRows + 1);
      let row = 0;
      let base = 0;
      for (const l of lists) {
        copyInto(values, l.values, base);
        const n = l.offsets.length - 1;
        for (let i = 1; i <= n; i++) offsets[row + i] = base + l.offsets[i]!;
        row += n;
        base += l.values.length;
      }
      columns[name] = { kind: 'list', offsets, values };
    } else {
      const Ctor = (c0 as NumericColumn).constructor as new (n: number) => NumericColumn;
      const out = new Ctor(numRows);
      let off = 0;
      for (const p of parts as NumericColumn[]) {
        copyInto(out, p, off);
        off += p.length;
      }
      columns[name] = out;
    }
  }
  return { table: first.table, numRows, columns, meta: first.meta };
}

/** Select rows by index (a gather), for any column kind. */
export function takeRows(batch: Batch, index: Int32Array | Uint32Array): Batch {
  const n = index.length;
  const columns: Record<string, Column> = {};
  for (const [name, c] of Object.entries(batch.columns)) {
    if (Array.isArray(c)) columns[name] = Array.from(index, (i) => c[i]!);
    else if (isListColumn(c)) {
      const offsets = new Int32Array(n + 1);
      for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k]! + c.offsets[index[k]! + 1]! - c.offsets[index[k]!]!;
      const Ctor = c.values.constructor as new (n: number) => NumericColumn;
      const values = new Ctor(offsets[n]!) as NumericColumn;
      for (let k = 0; k < n; k++) {
        const s = c.offsets[index[k]!]!;
        const e = c.offsets[index[k]! + 1]!;
        copyInto(values, c.values.subarray(s, e), offsets[k]!);
      }
      columns[name] = { kind: 'list', offsets, values };
    } else {
      const src = c as NumericColumn;
      const Ctor = src.constructor as new (n: number) => NumericColumn;
      const out = new Ctor(n) as NumericColumn;
      if (out instanceof BigInt64Array) for (let k = 0; k < n; k++) out[k] = (src as BigInt64Array)[index[k]!]!;
      else for (let k = 0; k < n; k++) (out as Float64Array)[k] = (src as Float64Array)[index[k]!]!;
      columns[name] = out;
    }
  }
  return { table: batch.table, numRows: n, columns, meta: batch.meta };
}

/** Check that every column has numRows entries; throws naming the column. */
export function assertBatchShape(batch: Batch): void {
  for (const [name, c] of Object.entries(batch.columns)) {
    const len = isListColumn(c) ? c.offsets.length - 1 : c.length;
    if (len !== batch.numRows) {
      throw new Error(`"${batch.table}" batch: column "${name}" has ${len} rows, batch says ${batch.numRows}`);
    }
  }
}
