import { describe, expect, it } from 'vitest';
import { MetricAccumulator } from '../../stages/eval/accumulator.js';
import { meanOverSeeds, proxyGoldPoints, proxyGoldRecords, recentre, summarizeProxyGold, type ProxyGoldPoint } from '../../stages/eval/proxy-gold.js';

const pt = (seed: number, step: number, proxy: number, gold: number, kl: number): ProxyGoldPoint => ({
  run: 'r',
  method: 'grpo',
  seed,
  step,
  epoch: step / 10,
  proxy,
  gold,
  kl,
  count: 100,
});

// Seed 0: proxy 1, 2, 3.5; gold 0.5, 1.3, 0.9 → gains proxy 0, 1, 2.5; gold 0, 0.8, 0.4 → peak at step 10.
// Seed 1: proxy 0, 1, 2; gold 1, 1.2, 2 → gains proxy 0, 1, 2; gold 0, 0.2, 1 → peak at step 20.
const points = [pt(0, 20, 3.5, 0.9, 12), pt(0, 0, 1, 0.5, 0), pt(0, 10, 2, 1.3, 5), pt(1, 0, 0, 1, 0), pt(1, 10, 1, 1.2, 4), pt(1, 20, 2, 2, 10)];

describe('proxy vs gold', () => {
  it('recentres each series by its step-0 value', () => {
    const rec = recentre(points).filter((p) => p.seed === 0);
    expect(rec.map((p) => p.step)).toEqual([0, 10, 20]);
    expect(rec.map((p) => p.proxyGain)).toEqual([0, 1, 2.5]);
    rec.map((p) => p.goldGain).forEach((g, i) => expect(g).toBeCloseTo([0, 0.8, 0.4][i]!, 14));
    expect(rec.every((p) => p.baseStep === 0)).toBe(true);
  });

  it('summarises peak gold, proxy there, their gap and the KL there', () => {
    const s = summarizeProxyGold(points);
    const seed0 = s.find((x) => x.seed === 0)!;
    expect(seed0.step).toBe(10);
    expect(seed0.peakGold).toBeCloseTo(0.8, 14);
    expect(seed0.proxyAtPeak).toBe(1);
    expect(seed0.gap).toBeCloseTo(-0.2, 14);
    expect(seed0.klAtPeak).toBe(5);
    const seed1 = s.find((x) => x.seed === 1)!;
    expect([seed1.step, seed1.proxyAtPeak, seed1.klAtPeak]).toEqual([20, 2, 10]);
    expect(seed1.peakGold).toBeCloseTo(1, 14);
    expect(seed1.gap).toBeCloseTo(-1, 14);
    // The mean curve over the two seeds: gold gains 0, 0.5, 0.7 → peak at 20 with proxy 2.25, KL 11.
    const pooled = s.find((x) => x.seed === -1)!;
    expect(pooled.step).toBe(20);
    expect(pooled.peakGold).toBeCloseTo(0.7, 14);
    expect(pooled.proxyAtPeak).toBeCloseTo(2.25, 14);
    expect(pooled.gap).toBeCloseTo(-1.55, 14);
    expect(pooled.klAtPeak).toBe(11);
  });

  it('recentres on the earliest checkpoint when step 0 is missing, and a falling curve peaks at its start', () => {
    const s = summarizeProxyGold([pt(0, 5, 1, 2, 1), pt(0, 15, 3, 1, 2)]);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ step: 5, peakGold: 0, proxyAtPeak: 0, gap: 0, klAtPeak: 1, baseStep: 5 });
  });

  it('averages over seeds only at steps every seed reached', () => {
    const pooled = meanOverSeeds(recentre([...points, pt(1, 30, 5, 5, 20)]));
    expect(pooled.map((p) => p.step)).toEqual([0, 10, 20]);
  });

  it('reads points back from an accumulator and derives the records', () => {
    const acc = new MetricAccumulator();
    for (const p of points) {
      const key = { run: 'r', method: 'grpo', seed: p.seed, step: p.step, epoch: p.epoch, split: 'test' };
      // Two observations per checkpoint whose mean is the point's value.
      acc.addValues({ ...key, metric: 'proxy_reward' }, [p.proxy - 1, p.proxy + 1]);
      acc.addValues({ ...key, metric: 'gold_reward' }, [p.gold, p.gold]);
      acc.addValues({ ...key, metric: 'kl_to_init' }, [p.kl, p.kl]);
    }
    const back = proxyGoldPoints(acc, 'test');
    expect(back).toHaveLength(6);
    expect(back.find((p) => p.seed === 0 && p.step === 20)).toMatchObject({ proxy: 3.5, gold: 0.9, kl: 12, count: 2 });
    expect(proxyGoldPoints(acc, 'valid')).toEqual([]);
    const recs = proxyGoldRecords(acc, ['test']);
    const get = (metric: string, seed: number, step?: number) =>
      recs.find((r) => r.metric === metric && r.seed === seed && (step === undefined || r.step === step));
    expect(get('proxy_gain', 0, 20)!.value).toBe(2.5);
    expect(get('gold_gain', 1, 20)!.value).toBeCloseTo(1, 14);
    expect(get('peak_gold', 0)).toMatchObject({ step: 10, epoch: 1, count: 1 });
    expect(get('gold_proxy_gap', -1)!.value).toBeCloseTo(-1.55, 14);
    expect(get('kl_at_peak', 1)!.value).toBe(10);
  });
});
