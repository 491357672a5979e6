import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRecommend } from '../../pipelines/commands/recommend.js';
import type { Batch, ListColumn } from '../../stages/core/batch.js';
import { concatBatches } from '../../stages/core/batch.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { topItems } from '../../stages/eval/contexts.js';
import { topKPerRow } from '../../stages/export/top-k.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { readCheckpoint } from '../../stages/train/checkpoint.js';
import { policyFromCheckpoint } from '../../stages/train/load-policy.js';
import { SasrecPolicy } from '../../stages/train/sasrec-policy.js';
import { mulberry32 } from '../../stages/core/seeded-random.js';
import { runCli } from '../tracking/cli-child.js';
import { CONFIG, randomCheckpoint, randomHistories, tmpDir } from './fixtures.js';

/** An examples batch: rows alternate train/test, user r + 100, contexts from randomHistories. */
function examples(contexts: ListColumn<Int32Array>): Batch {
  const n = contexts.offsets.length - 1;
  return {
    table: 'examples',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, r) => 100 + r),
      context: contexts,
      context_rewards: { kind: 'list', offsets: contexts.offsets, values: new Float32Array(contexts.values.length).fill(1) },
      action: Int32Array.from({ length: n }, (_, r) => 1 + (r % (CONFIG.numItems - 1))),
      reward: new Float32Array(n).fill(3),
      timestamp: BigInt64Array.from({ length: n }, (_, r) => BigInt(r)),
      split: Int8Array.from({ length: n }, (_, r) => (r % 2 === 0 ? 2 : 0)),
    },
  };
}

/** Brute force: sort every candidate (not padding, not in the context) by score desc, id asc; take k. */
function bruteTopK(scores: Float32Array, numItems: number, context: number[], k: number): [number, number][] {
  const seen = new Set(context);
  const cands: [number, number][] = [];
  for (let j = 1; j < numItems; j++) if (!seen.has(j)) cands.push([j, scores[j]!]);
  cands.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return cands.slice(0, k);
}

describe('top-K with the evaluation candidate rule', () => {
  it('matches a full sort, including ties and NaN, and K = 1 equals evaluation\'s topItems', () => {
    const rand = mulberry32(3);
    const numItems = 25;
    const ctx = randomHistories(30, { ...CONFIG, numItems }, 9);
    const scores = Float32Array.from({ length: 30 * numItems }, () => Math.round(rand() * 8) / 2); // many ties
    scores[3 * numItems + 4] = Number.NaN;
    for (const k of [1, 5, 24, 30]) {
      const top = topKPerRow(scores, numItems, ctx, k);
      for (let r = 0; r < 30; r++) {
        const context = Array.from(ctx.values.subarray(ctx.offsets[r]!, ctx.offsets[r + 1]!));
        const rowScores = scores.subarray(r * numItems, (r + 1) * numItems).map((v) => (Number.isNaN(v) ? -Infinity : v));
        const want = bruteTopK(rowScores, numItems, context, k);
        const got = Array.from(top.items.subarray(top.offsets[r]!, top.offsets[r + 1]!), (it, i) => [it, top.scores[top.offsets[r]! + i]!]);
        expect(got).toEqual(want);
      }
      if (k === 1) expect(Array.from(top.items)).toEqual(Array.from(topItems(scores, numItems, ctx, true)));
    }
  });
});

describe('recommend', () => {
  it('writes user_id, rank, item_id, score for the test rows, equal to a brute-force top-K over recpost\'s scores', async () => {
    const d = tmpDir('rec');
    const ck = await randomCheckpoint(path.join(d, 'ck'));
    const ctx = randomHistories(41, CONFIG, 21);
    const data = path.join(d, 'examples.parquet');
    writeParquetFile(data, [examples(ctx)]);
    const out = path.join(d, 'recs');
    const r = await runRecommend({ checkpoint: ck, data, output: out, k: 10, batchRows: 7 });
    expect(r.rows).toBe(21);
    expect(r.recommendations).toBe(210);
    const back = concatBatches(await readParquetAll(out));
    expect(Object.keys(back.columns)).toEqual(['user_id', 'rank', 'item_id', 'score']);
    const policy = policyFromCheckpoint(readCheckpoint(ck)) as SasrecPolicy;
    const all = policy.logitsSync(ctx);
    const users = back.columns.user_id as Int32Array;
    const ranks = back.columns.rank as Int32Array;
    const items = back.columns.item_id as Int32Array;
    const scores = back.columns.score as Float32Array;
    let i = 0;
    for (let row = 0; row < 41; row += 2) {
      const context = Array.from(ctx.values.subarray(ctx.offsets[row]!, ctx.offsets[row + 1]!));
      const want = bruteTopK(all.subarray(row * CONFIG.numItems, (row + 1) * CONFIG.numItems), CONFIG.numItems, context, 10);
      for (let rank = 1; rank <= 10; rank++, i++) {
        expect([users[i], ranks[i], items[i]]).toEqual([100 + row, rank, want[rank - 1]![0]]);
        expect(scores[i]).toBeCloseTo(want[rank - 1]![1], 4);
        expect(context).not.toContain(items[i]);
      }
    }
    expect(i).toBe(back.numRows);
    policy.dispose();
  });

  it('runs from the CLI in a child process; bad arguments exit 2 with one line', async () => {
    const d = tmpDir('reccli');
    const ck = await randomCheckpoint(path.join(d, 'ck'));
    const data = path.join(d, 'ex.parquet');
    writeParquetFile(data, [examples(randomHistories(10, CONFIG, 4))]);
    const out = path.join(d, 'recs');
    const ok = runCli(['recommend', ck, '--data', data, '--k', '3', '--split', 'all', '--output', out]);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain(`recommend: 30 recommendation(s) for 10 row(s) → ${out}\n`);
    expect(fs.existsSync(path.join(out, '_manifest.json'))).toBe(true);
    expect(concatBatches(await readParquetAll(out)).numRows).toBe(30);
    const bad = runCli(['recommend', ck, '--data', data, '--k', '0', '--output', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^(error|recpost): recommend: --k must be a positive integer; got 0\n$/);
    await expect(runRecommend({ checkpoint: ck, data: path.join(d, 'none'), output: out })).rejects.toThrow(ConfigError);
    await expect(runRecommend({ checkpoint: ck, data, output: out, split: 'holdout' })).rejects.toThrow('recommend: --split must be one of train, valid, test, all; got "holdout"');
  });
});
