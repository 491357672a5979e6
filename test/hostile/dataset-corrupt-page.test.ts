/**
 * A byte flipped inside a data page keeps a part's size and footer row count,
 * and can trap parquet-wasm's decoder outside any catchable promise ("recpost:
 * unreachable", exit 1, before this check). Readers of a recpost dataset check
 * the part against the manifest's SHA-256 first: one line naming the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { interactions, tmpDir } from './dataset-helpers.js';

function damagedDataset(): { dir: string; part: string } {
  const dir = path.join(tmpDir('corrupt-page'), 'ds');
  const w = new DatasetWriter(dir, { compression: 'none' });
  w.write(interactions(20_000));
  w.close();
  const part = path.join(dir, 'part-00000.parquet');
  const bytes = fs.readFileSync(part);
  const size = bytes.length;
  for (let i = Math.floor(size / 3); i < Math.floor(size / 3) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
  fs.writeFileSync(part, bytes);
  expect(fs.statSync(part).size).toBe(size);
  return { dir, part };
}

describe('a data page changed in place', () => {
  it('is a located DatasetError naming the part, before any decoding', async () => {
    const { dir, part } = damagedDataset();
    const err = await readParquetAll(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toBe(
      `${part}: its bytes differ from the SHA-256 in the dataset's manifest; the dataset was changed or damaged after it was written; rerun the writer`,
    );
  });

  it('an intact dataset still reads whole', async () => {
    const dir = path.join(tmpDir('intact-page'), 'ds');
    const w = new DatasetWriter(dir, { compression: 'none' });
    w.write(interactions(20_000));
    w.close();
    const batches = await readParquetAll(dir);
    expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(20_000);
  });
});
