import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { runPlanned } from '../../pipelines/plan/plan-runner.js';
import { compilePlan } from '../../pipelines/plan/compile.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { LocalEngine } from '../../pipelines/engine/local-engine.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { readAll, readJson } from './helpers.js';

let dir: string;
let csv: string;
let engine: LocalEngine;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-ingest-plan-'));
  csv = path.join(dir, 'ratings.csv');
  const rand = mulberry32(11);
  const lines = ['user_id,item_id,rating,timestamp'];
  // String ids in an order where first-seen differs from sorted order, so the vocabulary order is checked.
  for (let i = 0; i < 30_000; i++) lines.push(`u${Math.floor(rand() * 900)},item-${Math.floor(rand() * 2000)},${1 + Math.floor(rand() * 5)},${1_000_000 + i}`);
  fs.writeFileSync(csv, lines.join('\n') + '\n');
  engine = new LocalEngine(2);
});
afterAll(async () => {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function pipeline(outDir: string) {
  return resolvePipeline(
    {
      name: 'ingest-plan-test',
      out_dir: outDir,
      seed: 3,
      stages: [
        // range_bytes small enough that the 600 KB file is cut into several ranges.
        { stage: 'ingest', with: { path: csv, output: path.join(outDir, 'interactions'), threads: 1, range_bytes: 65_536 } },
        { stage: 'reward_stats', with: { barrier: true, rows: 'all' } },
      ],
    },
    'ingest-plan-test.yaml',
  );
}

const fileBytes = (f: string) => fs.readFileSync(f);

describe('ingest as shards (two flows: scan ids, encode) on the local engine', { timeout: 240_000 }, () => {
  it('compiles ingest into its own ranges step', () => {
    const steps = compilePlan(pipeline(path.join(dir, 'c')), { ranges: true });
    const first = steps[0]!;
    expect(first.kind === 'sharded' && first.plans[0]!.by).toBe('ranges');
  });

  it('gives the single-process dataset row for row, the same vocabularies byte for byte, the same statistics', async () => {
    const wholeDir = path.join(dir, 'whole');
    await runPipeline(pipeline(wholeDir), { logger: memoryLogger(), quiet: true });
    const shardDir = path.join(dir, 'sharded');
    await runPlanned(pipeline(shardDir), { engine, shards: 4, logger: memoryLogger(), quiet: true });
    const a = await readAll(path.join(wholeDir, 'interactions'));
    const b = await readAll(path.join(shardDir, 'interactions'));
    expect(a.numRows).toBe(30_000);
    expect(b.numRows).toBe(a.numRows);
    for (const col of Object.keys(a.columns))
      expect([col, Array.from(b.columns[col] as ArrayLike<number>)]).toEqual([col, Array.from(a.columns[col] as ArrayLike<number>)]);
    for (const v of ['users.parquet', 'items.parquet']) {
      const wa = path.join(wholeDir, 'interactions', 'vocab', v);
      const wb = path.join(shardDir, 'interactions', 'vocab', v);
      expect(fs.existsSync(wa)).toBe(true);
      expect((await readAll(wb)).columns).toEqual((await readAll(wa)).columns);
    }
    const sa = readJson(path.join(wholeDir, 'reward_stats.json'));
    const sb = readJson(path.join(shardDir, 'reward_stats.json'));
    for (const k of ['count', 'min', 'max']) expect([k, sb[k]]).toEqual([k, sa[k]]);
    // The statistics read the committed parts, whose batches are cut differently from the
    // streamed ones; per-batch Welford moments then differ in the last bits (README).
    for (const k of ['mean', 'variance']) expect(Math.abs((sb[k] as number) - (sa[k] as number))).toBeLessThanOrEqual(1e-12 * Math.abs(sa[k] as number));
    expect(fileBytes(path.join(shardDir, 'interactions', '_manifest.json')).length).toBeGreaterThan(0);
  });
});
