/** The Parquet encoding worker given a part's columns (fixed-width numbers) or, for anything else, its Arrow IPC stream. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { ParquetEncodeWorker } from '../../stages/ingest/parquet-worker.js';
import { tmpDir } from './helpers.js';

const batch = (n: number, base: number): Batch => ({
  table: 'interactions',
  numRows: n,
  columns: {
    user_id: Int32Array.from({ length: n }, (_, i) => base + i),
    item_id: Int32Array.from({ length: n }, (_, i) => 2 * (base + i)),
    timestamp: BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + base + i) * 1000000n),
    reward: Float32Array.from({ length: n }, (_, i) => (i % 10) / 2 - 1),
  },
});

describe('parts posted to the encoder as columns', () => {
  it('read back equal to the same part encoded on this thread, for every fixed-width type and for a part that must go as Arrow IPC', async () => {
    const d = tmpDir('worker-cols');
    const w = new ParquetEncodeWorker();
    try {
      const wide = (n: number, base: number): Batch => {
        const b = batch(n, base);
        b.columns.score = Float64Array.from({ length: n }, (_, i) => (base + i) / 3);
        return b;
      };
      // A column the worker does not build itself (strings): the part goes as an Arrow IPC stream.
      const named: Batch = { table: 'misc', numRows: 2, columns: { name: ['a', 'é'], n: Int32Array.of(1, 2) } };
      // Columns in SharedArrayBuffers (the ingest's batch assembler): read by the worker in place (each the prefix of a longer buffer, as a partial batch is).
      const shared = (b: Batch): Batch => {
        const columns: Batch['columns'] = {};
        for (const [k, c] of Object.entries(b.columns)) {
          const src = c as Int32Array;
          const Ctor = src.constructor as new (buf: SharedArrayBuffer) => Int32Array;
          const copy = new Ctor(new SharedArrayBuffer((src.length + 2) * src.BYTES_PER_ELEMENT));
          copy.set(src);
          columns[k] = copy.subarray(0, src.length);
        }
        return { ...b, columns };
      };
      for (const [label, parts] of [
        ['fixed', [wide(4, 1), wide(3, 100)]],
        ['shared', [shared(wide(5, 7)), wide(2, 50)]],
        ['ipc', [named]],
      ] as const) {
        const viaWorker = path.join(d, `${label}-worker.parquet`);
        const inline = path.join(d, `${label}-inline.parquet`);
        await w.encode([...parts], viaWorker, { compression: 'snappy' });
        writeParquetFile(inline, [...parts], { compression: 'snappy' });
        const a = await readParquetAll(viaWorker);
        const b = await readParquetAll(inline);
        expect(a.map((x) => Object.keys(x.columns))).toEqual(b.map((x) => Object.keys(x.columns)));
        const flat = (bs: Batch[]) => bs.map((x) => Object.fromEntries(Object.entries(x.columns).map(([k, c]) => [k, Array.from(c as ArrayLike<unknown>)])));
        expect(flat(a)).toEqual(flat(b));
        expect(a.reduce((n, x) => n + x.numRows, 0)).toBe(parts.reduce((n, x) => n + x.numRows, 0));
      }
    } finally {
      await w.terminate();
    }
  });
});
