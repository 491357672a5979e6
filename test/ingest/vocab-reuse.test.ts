import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVocabulary } from '../../stages/ingest/vocab-files.js';
import { ingestAll, tmpDir, tuples, writeText } from './helpers.js';

const HEADER = 'user_id,item_id,reward,timestamp\n';

describe('vocabulary reuse', () => {
  it('extend: keeps old indices, appends new ids in first-seen order', async () => {
    const d = tmpDir('vocab');
    const day1 = writeText(d, 'day1.csv', `${HEADER}u1,a,1,1\nu2,b,1,2\nu1,c,1,3\n`);
    const day2 = writeText(d, 'day2.csv', `${HEADER}u3,c,1,4\nu1,d,1,5\nu2,a,1,6\n`);
    const vocab_dir = path.join(d, 'vocab');
    const r1 = await ingestAll({ path: day1, output: path.join(d, 'ds1'), vocab_dir });
    expect(tuples(r1.all!)).toEqual([
      [1, 1, 1, 1],
      [2, 2, 2, 1],
      [1, 3, 3, 1],
    ]);
    const r2 = await ingestAll({ path: day2, output: path.join(d, 'ds2'), vocab_dir, vocab: 'extend' });
    // u3 is new → 3; c stays 3; d is new → 4; a stays 1.
    expect(tuples(r2.all!)).toEqual([
      [3, 3, 4, 1],
      [1, 4, 5, 1],
      [2, 1, 6, 1],
    ]);
    expect((await loadVocabulary(path.join(vocab_dir, 'users.parquet'))).rawIds()).toEqual(['u1', 'u2', 'u3']);
    expect((await loadVocabulary(path.join(vocab_dir, 'items.parquet'))).rawIds()).toEqual(['a', 'b', 'c', 'd']);
    expect(r2.logs.join('\n')).toMatch(/loaded vocabularies .* \(2 users, 3 items; extend\)/);
  });

  it('extend with the default vocab_dir inside the output keeps the vocabulary across re-runs', async () => {
    const d = tmpDir('vocab');
    const out = path.join(d, 'ds');
    await ingestAll({ path: writeText(d, 'a.csv', `${HEADER}x,p,1,1\n`), output: out });
    const r = await ingestAll({ path: writeText(d, 'b.csv', `${HEADER}y,q,1,2\nx,p,1,3\n`), output: out, vocab: 'extend' });
    expect(tuples(r.all!)).toEqual([
      [2, 2, 2, 1],
      [1, 1, 3, 1],
    ]);
  });

  it('fixed: unknown users or items are rejected, known ones keep their index', async () => {
    const d = tmpDir('vocab');
    const vocab_dir = path.join(d, 'vocab');
    await ingestAll({ path: writeText(d, 'train.csv', `${HEADER}u1,a,1,1\nu2,b,1,2\n`), output: path.join(d, 'ds1'), vocab_dir });
    const test = writeText(d, 'test.csv', `${HEADER}u2,a,5,3\nu9,a,5,4\nu1,zz,5,5\n`);
    await expect(ingestAll({ path: test, output: path.join(d, 'ds2'), vocab_dir, vocab: 'fixed' })).rejects.toThrow(
      `${test}:3: field "user_id": user id is not in the fixed vocabulary (vocab: fixed) (value: "u9")`,
    );
    const q = await ingestAll({ path: test, output: path.join(d, 'ds3'), vocab_dir, vocab: 'fixed', mode: 'quarantine' });
    expect(tuples(q.all!)).toEqual([[2, 1, 3, 5]]);
    expect(q.summary.rejected).toBe(2);
    expect((await loadVocabulary(path.join(vocab_dir, 'items.parquet'))).rawIds()).toEqual(['a', 'b']);
  });

  it('extend without an existing vocabulary is an error naming the path', async () => {
    const d = tmpDir('vocab');
    await expect(ingestAll({ path: writeText(d, 'a.csv', `${HEADER}x,p,1,1\n`), output: path.join(d, 'ds'), vocab: 'extend' })).rejects.toThrow(
      /vocab: extend needs an existing vocabulary, but .*users\.parquet does not exist/,
    );
  });
});
