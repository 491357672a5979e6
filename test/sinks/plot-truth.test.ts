/** Plots tell the truth: continued runs after their init, baselines as reference lines, KL order, data ticks on log axes, readable titles. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { writeCheckpoint } from '../../stages/train/checkpoint.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import { layoutChart } from '../../stages/sinks/plot/chart.js';
import { continuationOffsets } from '../../stages/sinks/plot/continuations.js';
import { displayName } from '../../stages/sinks/plot/display-names.js';
import { goldProxyVsKl, metricVsStep } from '../../stages/sinks/plot/series.js';
import { sceneToSvg } from '../../stages/sinks/plot/svg.js';
import { plotStage, writePlot, type PlotConfig } from '../../stages/sinks/plot-stage.js';
import { tmpDir } from './helpers.js';
import { axisTicks, seriesPaths } from './svg-parse.js';

const rec = (method: string, epoch: number, step: number, split: string, metric: string, value: number, seed = 0): MetricRecord =>
  metricRecord({ run: 'r', method, seed, step, epoch, split, metric, value });
const tableOf = (rs: MetricRecord[]) => {
  const t = new MetricTable();
  t.addRecords(rs);
  return t;
};
const config = (raw: Record<string, unknown>) => validateConfig<PlotConfig>('plot', plotStage.fields, raw);

function checkpoint(dir: string, method: string, epoch: number, step: number, init?: string): string {
  return writeCheckpoint(
    dir,
    {
      kind: 'sasrec',
      method,
      model: {},
      step,
      epoch,
      seed: 0,
      position: null,
      rng: { seed: 0, step, epoch, batch: 0 },
      ...(init ? { trainer: { init } } : {}),
    },
    [],
  );
}

describe('plot: continued runs', () => {
  it('a run initialised from another method checkpoint is drawn after it, and the legend says so', () => {
    const rs = [1, 2, 3].map((e) => rec('bc', e, e * 100, 'valid', 'ndcg@10', 0.1 * e));
    rs.push(rec('exp_rsft', 1, 50, 'valid', 'ndcg@10', 0.35), rec('exp_rsft', 2, 100, 'valid', 'ndcg@10', 0.4));
    const offsets = new Map([['exp_rsft', { from: 'bc', epoch: 3, step: 300 }]]);
    const byEpoch = metricVsStep(tableOf(rs), { metric: 'ndcg@10', split: 'valid', x: 'epoch', markers: false, offsets });
    const cont = byEpoch.series.find((s) => s.id === 'exp_rsft')!;
    expect(cont.xs).toEqual([4, 5]);
    expect(cont.label).toBe('exp_rsft (continues bc after epoch 3)');
    expect(byEpoch.series.find((s) => s.id === 'bc')!.xs).toEqual([1, 2, 3]);
    const byStep = metricVsStep(tableOf(rs), { metric: 'ndcg@10', split: 'valid', x: 'step', markers: false, offsets });
    expect(byStep.series.find((s) => s.id === 'exp_rsft')!.xs).toEqual([350, 400]);
    expect(byStep.series.find((s) => s.id === 'exp_rsft')!.label).toBe('exp_rsft (continues bc after step 300)');
  });

  it('finds the offsets from the checkpoints: the init checkpoint named in the trainer options', () => {
    const dir = tmpDir('continuation');
    const bc = checkpoint(path.join(dir, 'bc', 'epoch-3'), 'bc', 3, 300);
    const exp = checkpoint(path.join(dir, 'exp', 'epoch-1'), 'exp_rsft', 1, 50, bc);
    const offsets = continuationOffsets([
      { method: 'bc', dir: bc },
      { method: 'exp_rsft', dir: exp },
    ]);
    expect([...offsets]).toEqual([['exp_rsft', { from: 'bc', epoch: 3, step: 300 }]]);
  });
});

describe('plot: baselines and KL order', () => {
  it('a method without steps (a baseline) is a dashed reference line, not a point', async () => {
    const rs = [0, 100, 200].map((s) => rec('bc', 0, s, 'test', 'hr@10', 0.2 + s / 1000));
    rs.push(rec('popularity', 0, 0, 'test', 'hr@10', 0.15));
    const data = metricVsStep(tableOf(rs), { metric: 'hr@10', split: 'test', x: 'step', markers: true });
    expect(data.series.map((s) => s.id)).toEqual(['bc']);
    expect(data.refLines.map((r) => [r.id, r.y])).toEqual([['popularity', 0.15]]);
    const file = path.join(tmpDir('baseline'), 'p.svg');
    await writePlot(tableOf(rs), config({ kind: 'metric_vs_step', metric: 'hr@10', split: 'test' }), file, memoryLogger());
    const svg = fs.readFileSync(file, 'utf8');
    expect(svg).toMatch(/<g class="reference" data-series="popularity"><line [^>]*stroke-dasharray/);
    expect(seriesPaths(svg).has('popularity')).toBe(false);
  });

  it('gold and proxy are joined in KL order (x increasing), not in step order', () => {
    const kls = [0, 0.5, 0.3, 0.9];
    const rs = kls.flatMap((kl, i) => [
      rec('grpo', 0, i * 10, 'test', 'gold_gain', i),
      rec('grpo', 0, i * 10, 'test', 'proxy_gain', 2 * i),
      rec('grpo', 0, i * 10, 'test', 'kl_to_init', kl),
    ]);
    const data = goldProxyVsKl(tableOf(rs), { split: 'test', gold: 'gold_gain', proxy: 'proxy_gain', kl: 'kl_to_init', recenter: false, markers: true });
    const gold = data.series.find((s) => s.id === 'grpo:gold')!;
    expect(gold.xs).toEqual([0, 0.3, 0.5, 0.9]);
    expect(gold.ys).toEqual([0, 2, 1, 3]);
    expect(data.series.find((s) => s.id === 'grpo:proxy')!.ys).toEqual([0, 4, 2, 6]);
    expect(data.highlights).toEqual([{ x: 0.9, y: 3, color: gold.color }]);
  });
});

describe('plot: ticks and names', () => {
  it('a log axis over a few swept values ticks exactly at them', () => {
    const xs = [0.25, 0.5, 1, 2, 4];
    const { scene } = layoutChart({
      width: 760,
      height: 460,
      xLabel: 'λ',
      yLabel: 'y',
      logX: true,
      series: [{ id: 's', label: 's', xs, ys: [1, 2, 3, 2, 1], color: '#000' }],
    });
    const ticks = axisTicks(sceneToSvg(scene, 'text')).x.map((t) => t[0]);
    expect(ticks).toEqual(xs);
    expect(sceneToSvg(scene, 'text')).toContain('>0.25</text>');
  });

  it('titles and axis labels use readable metric names', () => {
    expect(['ndcg@10', 'hr@10', 'mrr', 'avg_reward', 'kl_ref', 'recall@50'].map(displayName)).toEqual([
      'NDCG@10',
      'HR@10',
      'MRR',
      'Avg reward',
      'KL to reference',
      'Recall@50',
    ]);
    const data = metricVsStep(tableOf([rec('bc', 0, 0, 'test', 'ndcg@10', 0.1), rec('bc', 0, 1, 'test', 'ndcg@10', 0.2)]), {
      metric: 'ndcg@10',
      x: 'step',
      markers: false,
    });
    expect(data.title).toBe('NDCG@10 vs step');
    expect(data.yLabel).toBe('NDCG@10 (test)');
  });
});
