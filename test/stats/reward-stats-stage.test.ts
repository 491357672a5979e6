import * as fs from 'node:fs';
import { applyStage } from '../../stages/core/stage-driver.js';
import { stageContext } from '../../pipelines/run-stage.js';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch, ListColumn } from '../../stages/core/batch.js';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { rewardStatsStage } from '../../stages/stats/reward-stats-stage.js';
import { mergeStatsFiles, statePathFor } from '../../stages/stats/stats-files.js';
import { main } from '../../pipelines/cli.js';
import { getStage } from '../../stages/registry.js';
import _ from 'highland';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { StageContext } from '../../stages/core/stage.js';
import { RewardStats } from '../../stages/stats/reward-stats.js';
import { captureSink, rng, runStages, tmpDir } from './helpers.js';

function fakeCtx(outDir: string): StageContext {
  return stageContext({ outDir, runId: 't', seed: 0, logger: memoryLogger() });
}

/** Example-like batches with every column kind: lists, int64, int8, float32, text. */
function exampleBatches(sizes: number[], seed: number, withSplit = true): Batch[] {
  const u = rng(seed);
  let t = 0;
  return sizes.map((n, bi) => {
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + (i % 4);
    const values = Int32Array.from({ length: offsets[n]! }, () => 1 + Math.floor(u() * 100));
    const columns: Batch['columns'] = {
      user_id: Int32Array.from({ length: n }, () => 1 + Math.floor(u() * 50)),
      context: { kind: 'list', offsets, values } satisfies ListColumn,
      action: Int32Array.from({ length: n }, () => 1 + Math.floor(u() * 100)),
      reward: Float32Array.from({ length: n }, () => 1 + Math.floor(u() * 5)),
      timestamp: BigInt64Array.from({ length: n }, () => BigInt(1_700_000_000_000 + t++)),
      note: Array.from({ length: n }, (_, i) => `b${bi}r${i}`),
    };
    if (withSplit) columns.split = Int8Array.from({ length: n }, () => Math.floor(u() * 3));
    return { table: 'examples', numRows: n, columns, meta: { batch: bi } };
  });
}

function allRewards(batches: Batch[]): Float64Array {
  return Float64Array.from(batches.flatMap((b) => Array.from(b.columns.reward as Float32Array)));
}

function meanStd(x: Float64Array): [number, number] {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return [m, Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length)];
}

describe('reward_stats stage', () => {
  it('is registered', () => {
    expect(getStage('reward_stats')).toBe(rewardStatsStage);
  });

  it('passes batches through, emits per-batch records, writes valid JSON + state and publishes the artifact at the end', async () => {
    const dir = tmpDir('stats');
    const input = exampleBatches([100, 250, 7], 1);
    const seen: { batch: Batch; probe: unknown }[] = [];
    // rows: all — these batches mix splits; the default (train rows) is tested in reward-stats-train-rows.test.ts.
    const r = await runStages(
      input,
      [{ def: rewardStatsStage, with: { rows: 'all' } }, { def: captureSink(seen, (c) => c.artifacts.get('reward_stats')) }],
      dir,
    );
    expect(seen.map((s) => s.batch)).toEqual(input);
    expect(seen[0]!.probe).toBeUndefined(); // streaming mode: only after the input ends
    const file = path.join(dir, 'reward_stats.json');
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8')) as RewardStatsSummary & { column: string };
    const x = allRewards(input);
    const [mean, std] = meanStd(x);
    expect(onDisk.column).toBe('reward');
    expect(onDisk.count).toBe(357);
    expect(onDisk.mean).toBeCloseTo(mean, 12);
    expect(onDisk.std).toBeCloseTo(std, 12);
    expect(onDisk.min).toBe(Math.min(...x));
    expect(onDisk.max).toBe(Math.max(...x));
    expect(fs.existsSync(statePathFor(file))).toBe(true);
    const { column: _c, ...summary } = onDisk;
    expect(r.artifacts.get('reward_stats')).toEqual(summary);
    expect(r.artifacts.get('reward_stats:path')).toBe(file);
    // Per-batch records: split "batch", step = batch index, values of that batch.
    const b1 = r.metrics.filter((m) => m.split === 'batch' && m.step === 1);
    const [m1, s1] = meanStd(Float64Array.from(input[1]!.columns.reward as Float32Array));
    expect(b1.find((m) => m.metric === 'reward_count')!.value).toBe(250);
    expect(b1.find((m) => m.metric === 'reward_mean')!.value).toBeCloseTo(m1, 12);
    expect(b1.find((m) => m.metric === 'reward_std')!.value).toBeCloseTo(s1, 12);
    expect(b1.find((m) => m.metric === 'reward_mean')!.count).toBe(250);
    expect(r.metrics.find((m) => m.split === 'all' && m.metric === 'reward_max')!.value).toBe(onDisk.max);
  });

  it('barrier mode publishes the global summary before the first batch, then replays exactly the same batches', async () => {
    const dir = tmpDir('stats-barrier');
    const input = exampleBatches([300, 1000, 1, 450], 2);
    const seen: { batch: Batch; probe: RewardStatsSummary | undefined }[] = [];
    const r = await runStages(
      input,
      [
        { def: rewardStatsStage, with: { barrier: true, rows: 'all' } },
        { def: captureSink(seen, (c) => c.artifacts.get('reward_stats') as RewardStatsSummary | undefined) },
      ],
      dir,
    );
    expect(seen.length).toBe(4);
    for (const s of seen) {
      expect(s.probe?.count).toBe(1751);
      expect(s.probe?.max).toBe(Math.max(...allRewards(input)));
    }
    expect(seen.map((s) => s.batch.numRows)).toEqual([300, 1000, 1, 450]);
    for (let i = 0; i < input.length; i++) {
      const got = seen[i]!.batch;
      const want = input[i]!;
      expect(got.table).toBe('examples');
      expect(got.meta).toEqual(want.meta);
      expect(Object.keys(got.columns).sort()).toEqual(Object.keys(want.columns).sort());
      for (const name of Object.keys(want.columns)) {
        const g = got.columns[name]!;
        const w = want.columns[name]!;
        expect(g.constructor).toBe(w.constructor);
        if ('kind' in w) {
          expect(Array.from((g as ListColumn).offsets)).toEqual(Array.from(w.offsets));
          expect(Array.from((g as ListColumn).values as Int32Array)).toEqual(Array.from(w.values as Int32Array));
        } else expect(Array.from(g as ArrayLike<unknown>)).toEqual(Array.from(w as ArrayLike<unknown>));
      }
    }
    expect(r.stages[1]!.rowsOut).toBe(1751);
    // The spill is gone.
    expect(fs.existsSync(path.join(dir, '_spill'))).toBe(false);
  });

  it('per_split keeps statistics per split name', async () => {
    const dir = tmpDir('stats-split');
    const input = exampleBatches([500, 500], 3);
    const r = await runStages(input, [{ def: rewardStatsStage, with: { per_split: true, batch_metrics: false } }], dir);
    const per = r.artifacts.get('reward_stats:per_split') as Record<string, RewardStatsSummary>;
    expect(Object.keys(per).sort()).toEqual(['test', 'train', 'valid']);
    for (const [code, name] of ['train', 'valid', 'test'].entries()) {
      const vals: number[] = [];
      for (const b of input) {
        const sp = b.columns.split as Int8Array;
        const rw = b.columns.reward as Float32Array;
        for (let i = 0; i < b.numRows; i++) if (sp[i] === code) vals.push(rw[i]!);
      }
      const [m] = meanStd(Float64Array.from(vals));
      expect(per[name]!.count).toBe(vals.length);
      expect(per[name]!.mean).toBeCloseTo(m, 12);
    }
    expect(r.metrics.some((m) => m.split === 'batch')).toBe(false);
    expect(r.metrics.find((m) => m.split === 'valid' && m.metric === 'reward_count')!.value).toBe(per.valid!.count);
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'reward_stats.json'), 'utf8'));
    expect(onDisk.perSplit.test.count).toBe(per.test!.count);
  });

  it('two shard runs merged (function and CLI) equal one run over the union', async () => {
    const dir = tmpDir('stats-merge');
    const a = exampleBatches([400, 300], 4);
    const b = exampleBatches([600], 5);
    const sa = path.join(dir, 'a', 'reward_stats.json');
    const sb = path.join(dir, 'b', 'reward_stats.json');
    await runStages(a, [{ def: rewardStatsStage, with: { path: sa, per_split: true } }], path.join(dir, 'a'));
    await runStages(b, [{ def: rewardStatsStage, with: { path: sb, per_split: true } }], path.join(dir, 'b'));
    const whole = await runStages([...a, ...b], [{ def: rewardStatsStage, with: { per_split: true } }], path.join(dir, 'w'));
    const w = whole.artifacts.get('reward_stats') as RewardStatsSummary;
    const merged = mergeStatsFiles([statePathFor(sa), sb], path.join(dir, 'm', 'reward_stats.json'));
    expect(merged.count).toBe(w.count);
    expect(merged.mean).toBeCloseTo(w.mean, 12);
    expect(merged.variance).toBeCloseTo(w.variance, 12);
    expect(merged.histogram).toEqual(w.histogram);
    expect(merged.perSplit!.train!.count).toBe((whole.artifacts.get('reward_stats:per_split') as Record<string, RewardStatsSummary>).train!.count);
    const out = path.join(dir, 'cli', 'merged.json');
    const code = await main(['stats-merge', sa, sb, '--output', out]);
    expect(code).toBe(0);
    const cli = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(cli.count).toBe(w.count);
    expect(fs.existsSync(path.join(dir, 'cli', 'merged.state.json'))).toBe(true);
    expect(() => mergeStatsFiles([path.join(dir, 'nope.json')], out)).toThrow(/no such file/);
  });

  it('exposes its accumulators as checkpoint state that restores into a new instance', async () => {
    const dir = tmpDir('stats-state');
    const input = exampleBatches([200, 300], 8);
    const r = await runStages(input, [{ def: rewardStatsStage, with: { per_split: true } }], dir);
    const state = r.instances[1]!.getState!() as { global: Parameters<typeof RewardStats.fromJSON>[0]; perSplit: Record<string, unknown> };
    const restored = RewardStats.fromJSON(JSON.parse(JSON.stringify(state.global)));
    expect(restored.summary()).toEqual(r.artifacts.get('reward_stats'));
    expect(Object.keys(state.perSplit).sort()).toEqual(['test', 'train', 'valid']);
    // A new instance resumed from the state and fed more data equals one run over everything.
    const more = exampleBatches([150], 9);
    const resumedDir = tmpDir('stats-resume');
    const fresh = rewardStatsStage.create(
      validateConfig('t', rewardStatsStage.fields, { per_split: true, path: path.join(resumedDir, 'rs.json') }),
      fakeCtx(resumedDir),
    );
    fresh.setState!(JSON.parse(JSON.stringify(state)));
    await new Promise<void>((resolve, reject) => applyStage(fresh, _(more)).stopOnError(reject).done(resolve));
    const all = await runStages([...input, ...more], [{ def: rewardStatsStage, with: { per_split: true } }], tmpDir('stats-all'));
    const resumed = JSON.parse(fs.readFileSync(path.join(resumedDir, 'rs.json'), 'utf8'));
    const whole = all.artifacts.get('reward_stats') as RewardStatsSummary;
    expect(resumed.count).toBe(whole.count);
    expect(resumed.mean).toBeCloseTo(whole.mean, 12);
    expect(resumed.histogram).toEqual(whole.histogram);
  });

  it('an empty input (barrier mode) still writes a summary: count 0, min/max null', async () => {
    const dir = tmpDir('stats-empty');
    const r = await runStages([], [{ def: rewardStatsStage, with: { barrier: true } }], dir);
    expect(r.stages[1]!.rowsOut).toBe(0);
    const onDisk = JSON.parse(fs.readFileSync(path.join(dir, 'reward_stats.json'), 'utf8'));
    expect(onDisk.count).toBe(0);
    expect(onDisk.min).toBeNull();
    expect((r.artifacts.get('reward_stats') as RewardStatsSummary).max).toBeNaN();
  });

  it('fails with the column, batch and row of a NaN reward, and names a missing column', async () => {
    const input = exampleBatches([10, 10], 6);
    (input[1]!.columns.reward as Float32Array)[3] = NaN;
    await expect(runStages(input, [{ def: rewardStatsStage }], tmpDir('stats-nan'))).rejects.toThrow(
      /column "reward" of "examples" batch 1 has the non-finite value NaN at row 3/,
    );
    await expect(runStages(exampleBatches([5], 7), [{ def: rewardStatsStage, with: { column: 'score' } }], tmpDir('stats-missing'))).rejects.toThrow(
      /column "score" is missing from "examples" batch 0/,
    );
  });
});
