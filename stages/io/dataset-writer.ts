/**
 * Writes a stream of batches as a Parquet dataset directory:
 *
 *   <dir>/part-00000.parquet, part-00001.parquet, …            (unpartitioned)
 *   <dir>/split=train/part-00000.parquet, split=test/…          (Hive-partitioned)
 *   <dir>/_manifest.json   files, row counts, schema table; written last
 *
 * Each part holds at most `rowsPerFile` rows (default 1,048,576) in row groups
 * of `rowGroupSize` rows, so a reader's memory is bounded by a part. Each file
 * is written under a temporary name and renamed when complete; the manifest
 * is written only after every part, so its presence means the dataset is whole.
 * Partition values are written as names (split codes map to train/valid/test).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch, NumericColumn } from '../core/batch.js';
import { concatBatches, sliceBatch, takeRows } from '../core/batch.js';
import { SPLIT_NAMES } from '../../schemas/tables.js';
import { encodeParquet, writeFileAtomic, type ParquetWriteOptions } from './parquet.js';

export interface DatasetWriterOptions extends ParquetWriteOptions {
  rowsPerFile?: number;
  /** Column to Hive-partition by (integer codes; `split` maps to names). */
  partitionBy?: string;
}

export interface DatasetManifest {
  table: string;
  rows: number;
  files: { path: string; rows: number; bytes: number; partition?: string }[];
  partitionBy?: string;
  compression: string;
  createdAt: string;
}

export class DatasetWriter {
  private pending = new Map<string, { batches: Batch[]; rows: number; next: number }>();
  private manifest: DatasetManifest;
  private readonly rowsPerFile: number;

  constructor(
    readonly dir: string,
    private readonly opts: DatasetWriterOptions = {},
  ) {
    this.rowsPerFile = opts.rowsPerFile ?? 1 << 20;
    if (fs.existsSync(path.join(dir, '_manifest.json'))) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    this.manifest = { table: '', rows: 0, files: [], compression: opts.compression ?? 'zstd', createdAt: new Date().toISOString(), ...(opts.partitionBy ? { partitionBy: opts.partitionBy } : {}) };
  }

  private partitionName(code: number): string {
    if (this.opts.partitionBy === 'split') return SPLIT_NAMES[code] ?? String(code);
    return String(code);
  }

  write(batch: Batch): void {
    if (batch.numRows === 0) return;
    this.manifest.table ||= batch.table;
    const key = this.opts.partitionBy;
    if (!key) return this.add('', batch);
    const col = batch.columns[key] as NumericColumn | undefined;
    if (!col || !ArrayBuffer.isView(col)) throw new Error(`dataset writer: partition column "${key}" missing or not numeric`);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < batch.numRows; i++) {
      const v = Number(col[i]);
      let g = groups.get(v);
      if (!g) groups.set(v, (g = []));
      g.push(i);
    }
    if (groups.size === 1) return this.add(`${key}=${this.partitionName([...groups.keys()][0]!)}`, batch);
    for (const [v, rows] of groups) this.add(`${key}=${this.partitionName(v)}`, takeRows(batch, Int32Array.from(rows)));
  }

  private add(part: string, batch: Batch): void {
    let p = this.pending.get(part);
    if (!p) this.pending.set(part, (p = { batches: [], rows: 0, next: 0 }));
    let start = 0;
    while (start < batch.numRows) {
      const take = Math.min(batch.numRows - start, this.rowsPerFile - p.rows);
      p.batches.push(start === 0 && take === batch.numRows ? batch : sliceBatch(batch, start, start + take));
      p.rows += take;
      start += take;
      if (p.rows >= this.rowsPerFile) this.flush(part);
    }
  }

  private flush(part: string): void {
    const p = this.pending.get(part);
    if (!p || p.rows === 0) return;
    const all = concatBatches(p.batches);
    p.batches = [];
    p.rows = 0;
    const rel = path.join(part, `part-${String(p.next++).padStart(5, '0')}.parquet`);
    const bytes = encodeParquet([all], this.opts);
    writeFileAtomic(path.join(this.dir, rel), bytes);
    this.manifest.rows += all.numRows;
    this.manifest.files.push({ path: rel, rows: all.numRows, bytes: bytes.length, ...(part ? { partition: part } : {}) });
  }

  /** Flush every partition and write the manifest. Returns it. */
  close(): DatasetManifest {
    for (const part of this.pending.keys()) this.flush(part);
    writeFileAtomic(path.join(this.dir, '_manifest.json'), JSON.stringify(this.manifest, null, 2));
    return this.manifest;
  }
}
