import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { splitSequencesStage } from '../../stages/split/split-stage.js';
import { getStage } from '../../stages/registry.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { captureSink, rng, runStages, tmpDir } from '../stats/helpers.js';
import { batchesToExamples, bruteForceSplit, rowsToBatches, type Row } from './reference.js';

function log(n: number, seed: number): Row[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => ({
    user: 1 + Math.floor(u() * 60),
    item: 1 + Math.floor(u() * 300),
    ts: BigInt(1_600_000_000 + Math.floor(u() * 100_000)),
    reward: 1 + Math.floor(u() * 5),
  }));
}

const byKey = (a: { user: number; ts: bigint; action: number }, b: { user: number; ts: bigint; action: number }) =>
  a.user - b.user || (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0) || a.action - b.action;

describe('split_sequences stage', () => {
  it('is registered and validates its options', () => {
    expect(getStage('split_sequences')).toBe(splitSequencesStage);
    const bad = () =>
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: 'x' } },
          { stage: 'split_sequences', with: { short_users: 'keep', max_len: 0 } },
        ],
      });
    expect(bad).toThrow(/field "short_users" must be one of train, drop/);
    expect(bad).toThrow(/field "max_len" must be ≥ 1/);
  });

  it('emits batch_size batches equal to the brute force, writes a split-partitioned dataset that reads back identically, and reports counts', async () => {
    const dir = tmpDir('split');
    const rows = log(3000, 1);
    const out = path.join(dir, 'examples');
    const seen: { batch: Batch; probe: unknown }[] = [];
    const r = await runStages(
      rowsToBatches(rows, [1000, 1000, 1000]),
      [{ def: splitSequencesStage, with: { max_len: 5, batch_size: 256, output: out } }, { def: captureSink(seen, () => null) }],
      dir,
    );
    const batches = seen.map((s) => s.batch);
    for (const b of batches) expect(b.numRows).toBeLessThanOrEqual(256);
    const got = batchesToExamples(batches);
    const want = bruteForceSplit(rows, { maxLen: 5, threshold: 4.5, minContext: 1, shortUsers: 'train', bySession: false });
    expect(got).toEqual(want);

    // Parquet round trip, partitioned by split.
    expect(fs.readdirSync(out).sort()).toEqual(['_manifest.json', 'split=test', 'split=train', 'split=valid']);
    const back = batchesToExamples(await readParquetAll(out)).sort(byKey);
    expect(back).toEqual(got.slice().sort(byKey));
    for (const name of ['train', 'valid', 'test']) {
      const part = batchesToExamples(await readParquetAll(path.join(out, `split=${name}`)));
      expect(new Set(part.map((e) => e.split))).toEqual(new Set([['train', 'valid', 'test'].indexOf(name)]));
    }

    // Counts as metric records and artifact.
    const metric = (split: string, name: string) => r.metrics.find((m) => m.method === 'split_sequences' && m.split === split && m.metric === name)?.value;
    expect(metric('train', 'examples')).toBe(want.filter((e) => e.split === 0).length);
    expect(metric('valid', 'examples')).toBe(want.filter((e) => e.split === 1).length);
    expect(metric('test', 'examples')).toBe(want.filter((e) => e.split === 2).length);
    expect(metric('all', 'users')).toBe(60);
    const counts = r.artifacts.get('split_counts') as { belowThreshold: number[] };
    expect(metric('test', 'excluded_below_threshold')).toBe(counts.belowThreshold[2]);
    // 60 users, 1–5 ratings: about 4/5 of the held-out targets are below 4.5.
    expect(counts.belowThreshold[1]! + counts.belowThreshold[2]!).toBeGreaterThan(60);
    expect(metric('valid', 'examples')! + counts.belowThreshold[1]!).toBe(60);
  });

  it('runs from a Parquet file in a pipeline, with apply_threshold off', async () => {
    const dir = tmpDir('split-pipe');
    const rows = log(800, 2);
    const src = path.join(dir, 'log.parquet');
    writeParquetFile(src, rowsToBatches(rows, [800]));
    const p = resolvePipeline({
      name: 'split',
      stages: [
        { stage: 'read_parquet', with: { path: src } },
        { stage: 'split_sequences', with: { apply_threshold: false, max_len: 3, output: path.join(dir, 'ex') } },
      ],
    });
    const res = await runPipeline(p, { outDir: path.join(dir, 'run'), logger: memoryLogger() });
    const back = batchesToExamples(await readParquetAll(path.join(dir, 'ex'))).sort(byKey);
    const want = bruteForceSplit(rows, { maxLen: 3, threshold: null, minContext: 1, shortUsers: 'train', bySession: false }).sort(byKey);
    expect(back).toEqual(want);
    expect(res.stages[1]!.rowsOut).toBe(want.length);
    expect(want.filter((e) => e.split === 2).length).toBe(60);
  });

  it('fails with a message naming the column when input lacks one, and refuses min_context > max_len', async () => {
    const bad: Batch = {
      table: 'interactions',
      numRows: 2,
      columns: { user_id: Int32Array.of(1, 1), item_id: Int32Array.of(1, 2), reward: Float32Array.of(1, 2) },
    };
    await expect(runStages([bad], [{ def: splitSequencesStage }], tmpDir('split-bad'))).rejects.toThrow(/split_sequences: column "timestamp" is missing/);
    await expect(
      runStages(rowsToBatches(log(10, 3), [10]), [{ def: splitSequencesStage, with: { max_len: 2, min_context: 3 } }], tmpDir('split-bad2')),
    ).rejects.toThrow(/min_context \(3\) must be ≤ max_len \(2\)/);
  });
});
