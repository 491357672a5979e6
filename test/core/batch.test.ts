import { describe, expect, it } from 'vitest';
import { concatBatches, sliceBatch, takeRows, type Batch, type ListColumn } from '../../stages/core/batch.js';
import { arrowToBatch, batchToArrow } from '../../stages/core/arrow.js';

function sample(): Batch {
  return {
    table: 'examples',
    numRows: 4,
    columns: {
      user_id: Int32Array.from([1, 1, 2, 3]),
      context: { kind: 'list', offsets: Int32Array.from([0, 0, 2, 3, 6]), values: Int32Array.from([5, 6, 7, 8, 9, 10]) },
      reward: Float32Array.from([1, 2, 3, 4]),
      timestamp: BigInt64Array.from([10n, 20n, 30n, 40n]),
      name: ['a', 'b', 'c', 'd'],
    },
  };
}

const rowsOf = (b: Batch) => {
  const ctx = b.columns.context as ListColumn;
  return Array.from({ length: b.numRows }, (_, i) => ({
    user: (b.columns.user_id as Int32Array)[i],
    ctx: Array.from(ctx.values.subarray(ctx.offsets[i]!, ctx.offsets[i + 1]!) as Int32Array),
    r: (b.columns.reward as Float32Array)[i],
    t: (b.columns.timestamp as BigInt64Array)[i],
    name: (b.columns.name as string[])[i],
  }));
};

describe('batch operations', () => {
  it('slice then concat restores the batch', () => {
    const b = sample();
    const parts = [sliceBatch(b, 0, 1), sliceBatch(b, 1, 3), sliceBatch(b, 3, 4)];
    expect(rowsOf(concatBatches(parts))).toEqual(rowsOf(b));
  });

  it('takeRows gathers rows in the given order, lists included', () => {
    const b = sample();
    const t = takeRows(b, Int32Array.from([3, 0, 2]));
    const all = rowsOf(b);
    expect(rowsOf(t)).toEqual([all[3], all[0], all[2]]);
  });

  it('round-trips through an Arrow record batch', () => {
    const b = sample();
    const back = arrowToBatch(batchToArrow(b), 'examples');
    expect(rowsOf(back)).toEqual(rowsOf(b));
    expect(back.columns.reward).toBeInstanceOf(Float32Array);
    expect(back.columns.timestamp).toBeInstanceOf(BigInt64Array);
  });

  it('packs a declared Bool column and unpacks it', () => {
    const b: Batch = {
      table: 'weighted_examples',
      numRows: 10,
      columns: { weight: new Float32Array(10), kept: Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 1, 0, 1]) },
    };
    const rb = batchToArrow(b);
    expect(String(rb.schema.fields.find((f) => f.name === 'kept')!.type)).toBe('Bool');
    expect(Array.from(arrowToBatch(rb, 'weighted_examples').columns.kept as Uint8Array)).toEqual([1, 0, 1, 1, 0, 0, 0, 1, 0, 1]);
  });
});
