/** DatasetWriter's asynchronous encode hook, side files and staged commit. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { DatasetWriter, encodePartInline, type PartWritten } from '../../stages/io/dataset-writer.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { ParquetEncodeWorker } from '../../stages/ingest/parquet-worker.js';
import { contentOf, digest, interactions, ratingsCsv, runStages, stagingDirs, tmpDir } from '../hostile/dataset-helpers.js';

const rows = (bs: Batch[]) => bs.reduce((s, b) => s + b.numRows, 0);

describe('DatasetWriter with an asynchronous encoder', () => {
  it('keeps at most maxInFlight parts encoding and writes the same files as the inline encoder', async () => {
    const d = tmpDir('writer');
    let inFlight = 0;
    let most = 0;
    const slow = async (batches: Batch[], file: string, opts: object): Promise<PartWritten> => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      const w = encodePartInline(batches, file, opts);
      inFlight--;
      return w;
    };
    const a = new DatasetWriter(path.join(d, 'async'), { rowsPerFile: 7, encode: slow, maxInFlight: 2 });
    const b = new DatasetWriter(path.join(d, 'inline'), { rowsPerFile: 7 });
    for (let k = 0; k < 10; k++) {
      await a.writeAsync(interactions(5, k));
      b.write(interactions(5, k));
    }
    const ma = await a.closeAsync();
    const mb = b.close();
    expect(most).toBeLessThanOrEqual(3);
    expect(ma.files).toEqual(mb.files);
    expect(contentOf(path.join(d, 'async'))).toEqual(contentOf(path.join(d, 'inline')));
  });

  it('the worker encoder gives byte-identical parts and the same hashes as the inline one', async () => {
    const d = tmpDir('writer');
    const worker = new ParquetEncodeWorker();
    try {
      const a = new DatasetWriter(path.join(d, 'w'), { rowsPerFile: 40, encode: (bs, f, o) => worker.encodeHashed(bs, f, o) });
      await a.writeAsync(interactions(100, 3));
      const m = await a.closeAsync();
      for (const f of m.files)
        expect(f.sha256).toBe(
          createHash('sha256')
            .update(fs.readFileSync(path.join(d, 'w', f.path)))
            .digest('hex'),
        );
      const b = new DatasetWriter(path.join(d, 'i'), { rowsPerFile: 40 });
      b.write(interactions(100, 3));
      expect(b.close().files).toEqual(m.files);
    } finally {
      await worker.terminate();
    }
  });

  it('an encoder failure rejects closeAsync, removes the staging directory and leaves the previous dataset as it was', async () => {
    const d = tmpDir('writer');
    const out = path.join(d, 'ds');
    const first = new DatasetWriter(out, {});
    first.write(interactions(9, 1));
    first.close();
    const before = digest(out);
    let calls = 0;
    const failing = async (batches: Batch[], file: string, opts: object): Promise<PartWritten> => {
      if (++calls === 2) throw new Error('disk full');
      return encodePartInline(batches, file, opts);
    };
    const w = new DatasetWriter(out, { rowsPerFile: 3, encode: failing });
    await expect(
      (async () => {
        await w.writeAsync(interactions(12, 2));
        await w.closeAsync();
      })(),
    ).rejects.toThrow('disk full');
    w.abort();
    expect(digest(out)).toEqual(before);
    expect(stagingDirs(out)).toEqual([]);
    expect(rows(await readParquetAll(out))).toBe(9);
  });
});

describe('side files and commit', () => {
  it('a side file is written into the staging directory, listed with its rows and hash, and appears with the parts', () => {
    const d = tmpDir('writer');
    const out = path.join(d, 'ds');
    const w = new DatasetWriter(out, {});
    w.write(interactions(4, 1));
    const notes = path.join(out, 'extra', 'notes.json');
    expect(w.pathFor(notes)).toBe(path.join(w.stagingDir, 'extra', 'notes.json'));
    expect(w.pathFor(path.join(d, 'elsewhere.txt'))).toBe(path.join(d, 'elsewhere.txt'));
    fs.mkdirSync(path.dirname(w.pathFor(notes)), { recursive: true });
    fs.writeFileSync(w.pathFor(notes), '{"a":1}');
    w.addSideFile(notes, 'file', { rows: 1 });
    expect(fs.existsSync(out)).toBe(false);
    const m = w.close();
    expect(m.side_files).toEqual([{ path: 'extra/notes.json', role: 'file', bytes: 7, sha256: createHash('sha256').update('{"a":1}').digest('hex'), rows: 1 }]);
    expect(fs.readFileSync(notes, 'utf8')).toBe('{"a":1}');
    expect(() => w.commit()).toThrow(/already committed/);
  });

  it('ingest encoding on the worker and on the main thread writes the same dataset', async () => {
    const d = tmpDir('writer');
    const csv = ratingsCsv(path.join(d, 'in.csv'), 3000, 5);
    await runStages([{ stage: 'ingest', with: { path: csv, output: path.join(d, 'w'), rows_per_file: 700, encode_in_worker: true } }], path.join(d, 'r1'));
    await runStages([{ stage: 'ingest', with: { path: csv, output: path.join(d, 'm'), rows_per_file: 700, encode_in_worker: false } }], path.join(d, 'r2'));
    // Same layout, manifest and vocabularies; the part bytes may differ (the worker encodes a part's batches
    // without concatenating them first), the rows they hold do not.
    const w = contentOf(path.join(d, 'w'))!;
    const m = contentOf(path.join(d, 'm'))!;
    expect(w.manifest.files.map((f) => [f.path, f.rows])).toEqual([700, 700, 700, 700, 200].map((r, k) => [`part-0000${k}.parquet`, r]));
    expect(m.manifest.files.map((f) => [f.path, f.rows, f.bytes])).toEqual(w.manifest.files.map((f) => [f.path, f.rows, f.bytes]));
    expect(w.manifest.side_files).toEqual(m.manifest.side_files);
    const cols = (bs: Batch[]) =>
      bs.map((b) => Object.fromEntries(Object.entries(b.columns).map(([k, v]) => [k, Array.from(v as ArrayLike<number | bigint>)])));
    expect(cols(await readParquetAll(path.join(d, 'w')))).toEqual(cols(await readParquetAll(path.join(d, 'm'))));
  });
});

describe('claims of abandoned writers', () => {
  it('a writer dropped without commit or abort gives its output back once collected', async () => {
    const d = tmpDir('writer');
    const out = path.join(d, 'ds');
    (() => {
      const w = new DatasetWriter(out, { stage: 'write_parquet' });
      w.write(interactions(3, 1));
    })();
    expect(() => new DatasetWriter(out, { stage: 'again' })).toThrow('already being written by write_parquet');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    for (let k = 0; k < 20; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
      try {
        const w = new DatasetWriter(out, { stage: 'again' });
        w.write(interactions(4, 2));
        w.close();
        break;
      } catch {
        // not collected yet
      }
    }
    expect(rows(await readParquetAll(out))).toBe(4);
  });
});
