import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { ParquetEncodeWorker } from '../../stages/ingest/parquet-worker.js';
import { tmpDir, tuples } from './helpers.js';

const batch = (n: number, base: number): Batch => ({
  table: 'interactions',
  numRows: n,
  columns: {
    user_id: Int32Array.from({ length: n }, (_, i) => base + i),
    item_id: Int32Array.from({ length: n }, (_, i) => 2 * (base + i)),
    timestamp: BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + base + i)),
    reward: Float32Array.from({ length: n }, (_, i) => (i % 10) / 2),
  },
});

describe('Parquet encoding on a worker thread', () => {
  it('writes several batches as one readable file, and reports a failure without leaving a temporary file', async () => {
    const d = tmpDir('worker');
    const w = new ParquetEncodeWorker();
    try {
      const file = path.join(d, 'part.parquet');
      const bytes = await w.encode([batch(3, 1), batch(2, 10)], file, { compression: 'snappy', rowGroupSize: 2, metadata: { k: 'v' } });
      expect(bytes).toBe(fs.statSync(file).size);
      const back = await readParquetAll(file);
      expect(back.map((b) => b.numRows)).toEqual([2, 2, 1]);
      expect(back.flatMap(tuples)).toEqual([...tuples(batch(3, 1)), ...tuples(batch(2, 10))]);
      await expect(w.encode([batch(1, 1)], path.join(d, 'missing-dir', 'x.parquet'), {})).rejects.toThrow(/Parquet encoding failed: .*ENOENT/);
      expect(fs.readdirSync(d)).toEqual(['part.parquet']);
    } finally {
      await w.terminate();
    }
  });
});
