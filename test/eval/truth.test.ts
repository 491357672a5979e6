import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { asOracle, IdMappedOracle, loadWorld, resolveOracle } from '../../stages/simulators/truth.js';
import { removeTmpDirs, tmpDir } from './helpers.js';

afterAll(removeTmpDirs);

/** Truth in the simulator's own ids: r*(u, a) = 100u + a. */
const world = { trueRewards: (u: Int32Array, a: Int32Array) => Float64Array.from(u, (x, i) => 100 * x + a[i]!) };

function vocabFile(file: string, rawOfIndex: number[]): string {
  const table = new arrow.Table({
    raw_id: arrow.vectorFromArray(rawOfIndex.map(String), new arrow.Utf8()),
    index: arrow.makeVector(Int32Array.from(rawOfIndex, (_v, i) => i + 1)),
  });
  writeParquetFile(file, table);
  return file;
}

describe('true-reward oracles', () => {
  it('accept worlds with trueRewards or expectedRatings', () => {
    expect(asOracle(world)).toBe(world);
    const ratings = asOracle({ expectedRatings: (u: Int32Array, a: Int32Array) => Float64Array.from(u, (x, i) => x * a[i]!) })!;
    expect(Array.from(ratings.trueRewards(Int32Array.of(2), Int32Array.of(3)))).toEqual([6]);
    expect(asOracle({})).toBeUndefined();
    expect(asOracle('dir')).toBeUndefined();
  });

  it("map dense indices to the world's ids through the vocabulary files", async () => {
    const dir = tmpDir('vocab');
    // Dense user 1 is raw 7, 2 is raw 3; dense item 1 is raw 40, 2 is raw 10.
    vocabFile(path.join(dir, 'users.parquet'), [7, 3]);
    vocabFile(path.join(dir, 'items.parquet'), [40, 10]);
    const { oracle, note } = await resolveOracle(
      undefined,
      undefined,
      new Map<string, unknown>([
        ['world', world],
        ['vocab', { users: path.join(dir, 'users.parquet'), items: path.join(dir, 'items.parquet') }],
      ]),
    );
    expect(Array.from(oracle!.trueRewards(Int32Array.of(1, 2), Int32Array.of(2, 1)))).toEqual([710, 340]);
    expect(note).toMatch(/ids mapped through/);
    const byDir = await resolveOracle(undefined, dir, new Map<string, unknown>([['world', world]]));
    expect(Array.from(byDir.oracle!.trueRewards(Int32Array.of(2), Int32Array.of(2)))).toEqual([310]);
    expect(() => byDir.oracle!.trueRewards(Int32Array.of(3), Int32Array.of(1))).toThrow(/user index 3 is not in the vocabulary/);
  });

  it('pass ids unchanged without a vocabulary, and say when there is no world', async () => {
    const plain = await resolveOracle(undefined, undefined, new Map<string, unknown>([['world', world]]));
    expect(Array.from(plain.oracle!.trueRewards(Int32Array.of(1), Int32Array.of(2)))).toEqual([102]);
    expect(plain.note).toMatch(/unchanged/);
    expect((await resolveOracle(undefined, undefined, new Map())).oracle).toBeUndefined();
    await expect(resolveOracle(undefined, undefined, new Map<string, unknown>([['world', 42]]))).rejects.toThrow(/neither a world directory nor an object/);
    await expect(loadWorld(tmpDir('noworld'))).rejects.toThrow(/no world.json/);
    expect(Array.from(new IdMappedOracle(world).trueRewards(Int32Array.of(1), Int32Array.of(1)))).toEqual([101]);
  });
});
