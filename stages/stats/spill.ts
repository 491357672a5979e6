/**
 * Spill a stream to a temporary Parquet dataset and replay it: what lets a
 * barrier stage see every batch before any leaves, without holding them in
 * RAM. Replay restores the original batches exactly: same rows in the same
 * order, cut at the same boundaries, with the same table name and meta (batch
 * sizes and metas are remembered, one entry per batch, never per row).
 * Zero-row batches hold no rows and are not replayed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../core/batch.js';
import { concatBatches, sliceBatch } from '../core/batch.js';
import { DatasetWriter, type DatasetManifest } from '../io/dataset-writer.js';
import { readParquetFile } from '../io/parquet.js';

export class SpillDataset {
  private readonly writer: DatasetWriter;
  private readonly sizes: number[] = [];
  private readonly metas: (Record<string, unknown> | undefined)[] = [];
  private table = '';
  private manifest: DatasetManifest | undefined;
  rows = 0;

  constructor(readonly dir: string) {
    // Snappy: as fast to encode here as no compression, half the bytes.
    this.writer = new DatasetWriter(dir, { compression: 'snappy', rowGroupSize: 1 << 16 });
  }

  /** Spill one batch (zero-row batches carry nothing and are dropped). */
  write(batch: Batch): void {
    if (this.manifest) throw new Error('spill: write after close');
    if (batch.numRows === 0) return;
    if (this.table && batch.table !== this.table) throw new Error(`spill: batches of table "${batch.table}" after "${this.table}"`);
    this.table ||= batch.table;
    this.sizes.push(batch.numRows);
    this.metas.push(batch.meta ? { ...batch.meta } : undefined);
    this.rows += batch.numRows;
    this.writer.write(batch);
  }

  close(): DatasetManifest {
    this.manifest ??= this.writer.close();
    return this.manifest;
  }

  /** The spilled batches again, in order, at their original boundaries. */
  async *replay(): AsyncGenerator<Batch> {
    const manifest = this.close();
    const files = manifest.files.map((f) => path.join(this.dir, f.path));
    const reader = (async function* () {
      for (const f of files) yield* readParquetFile(f, { table: manifest.table });
    })();
    let cur: Batch | undefined;
    let pos = 0;
    for (let bi = 0; bi < this.sizes.length; bi++) {
      const want = this.sizes[bi]!;
      if (!cur || cur.numRows - pos < want) {
        const pieces: Batch[] = [];
        let have = 0;
        if (cur && pos < cur.numRows) {
          pieces.push(pos === 0 ? cur : sliceBatch(cur, pos, cur.numRows));
          have = cur.numRows - pos;
        }
        while (have < want) {
          const r = await reader.next();
          if (r.done) throw new Error(`spill ${this.dir}: dataset ended after fewer rows than were written`);
          pieces.push(r.value);
          have += r.value.numRows;
        }
        cur = concatBatches(pieces);
        pos = 0;
      }
      yield this.restore(pos === 0 && want === cur.numRows ? cur : sliceBatch(cur, pos, pos + want), bi);
      pos += want;
    }
  }

  private restore(b: Batch, i: number): Batch {
    const meta = this.metas[i];
    return { table: this.table, numRows: b.numRows, columns: b.columns, ...(meta ? { meta } : {}) };
  }

  /** Delete the spill, and its parent folder when nothing else is left in it. */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    try {
      fs.rmdirSync(path.dirname(this.dir));
    } catch {
      // not empty (another spill) or already gone
    }
  }
}
