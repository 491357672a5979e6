/**
 * Proxy versus gold reward along training (paper 004 §5, Figure 3, Table 1).
 *
 * Per checkpoint t of a run (method, seed): the mean proxy reward r̂ and mean
 * gold reward r* of policy samples on held-out contexts, and the KL from the
 * initial policy. Each reward is recentred by its own step-0 value:
 *
 *   Δproxy_t = proxy_t − proxy_0,   Δgold_t = gold_t − gold_0
 *
 * (step 0 = the earliest checkpoint of the series; a series without a step-0
 * checkpoint is recentred on its earliest one, and its summary says which).
 * The summary is Table 1's row: the peak Δgold over checkpoints, Δproxy at the
 * same checkpoint, their gap Δgold − Δproxy (negative when the proxy promises
 * more than the gold delivers) and the KL there.
 */
import type { MetricRecord } from '../../schemas/metric-record.js';
import type { MetricAccumulator } from './accumulator.js';

export const PROXY_METRIC = 'proxy_reward';
export const GOLD_METRIC = 'gold_reward';
export const KL_METRIC = 'kl_to_init';
/** The proxy's pairwise agreement with the gold reward on the policy's samples (pairwise-agreement.ts). */
export const AGREEMENT_METRIC = 'proxy_gold_agreement';

export interface ProxyGoldPoint {
  run: string;
  method: string;
  seed: number;
  step: number;
  epoch: number;
  proxy: number;
  gold: number;
  kl: number;
  /** Contexts × samples behind the reward means. */
  count: number;
}

export interface RecentredPoint extends ProxyGoldPoint {
  proxyGain: number;
  goldGain: number;
  /** Step of the checkpoint used as the baseline of the series. */
  baseStep: number;
}

export interface ProxyGoldSummary {
  run: string;
  method: string;
  /** −1 when the summary is over the mean curve of several seeds. */
  seed: number;
  step: number;
  epoch: number;
  peakGold: number;
  proxyAtPeak: number;
  /** peakGold − proxyAtPeak. */
  gap: number;
  klAtPeak: number;
  baseStep: number;
}

const seriesKey = (p: { run: string; method: string; seed: number }) => JSON.stringify([p.run, p.method, p.seed]);
const byCheckpoint = (a: ProxyGoldPoint, b: ProxyGoldPoint) => a.step - b.step || a.epoch - b.epoch;

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** Recentre every (run, method, seed) series by its earliest checkpoint. */
export function recentre(points: readonly ProxyGoldPoint[]): RecentredPoint[] {
  const out: RecentredPoint[] = [];
  for (const series of groupBy(points, seriesKey).values()) {
    const sorted = [...series].sort(byCheckpoint);
    const base = sorted[0]!;
    for (const p of sorted) out.push({ ...p, proxyGain: p.proxy - base.proxy, goldGain: p.gold - base.gold, baseStep: base.step });
  }
  return out;
}

/** Table 1's row for one recentred series: the checkpoint of peak Δgold (earliest on ties). */
export function summarizeSeries(series: readonly RecentredPoint[]): ProxyGoldSummary {
  if (series.length === 0) throw new Error('summarizeSeries: empty series');
  let best = series[0]!;
  for (const p of [...series].sort(byCheckpoint)) if (p.goldGain > best.goldGain || (p.goldGain === best.goldGain && byCheckpoint(p, best) < 0)) best = p;
  return {
    run: best.run,
    method: best.method,
    seed: best.seed,
    step: best.step,
    epoch: best.epoch,
    peakGold: best.goldGain,
    proxyAtPeak: best.proxyGain,
    gap: best.goldGain - best.proxyGain,
    klAtPeak: best.kl,
    baseStep: best.baseStep,
  };
}

/**
 * The mean curve over seeds of each (run, method): recentred values averaged
 * over the seeds at every step that all seeds reached (the paper averages five
 * seeds before taking the peak). Seed is −1 in the result.
 */
export function meanOverSeeds(points: readonly RecentredPoint[]): RecentredPoint[] {
  const out: RecentredPoint[] = [];
  for (const group of groupBy(points, (p) => JSON.stringify([p.run, p.method])).values()) {
    const seeds = new Set(group.map((p) => p.seed));
    for (const atStep of groupBy(group, (p) => String(p.step)).values()) {
      if (new Set(atStep.map((p) => p.seed)).size !== seeds.size || atStep.length !== seeds.size) continue;
      const n = atStep.length;
      const avg = (f: (p: RecentredPoint) => number) => atStep.reduce((s, p) => s + f(p), 0) / n;
      const p0 = atStep[0]!;
      out.push({
        run: p0.run,
        method: p0.method,
        seed: -1,
        step: p0.step,
        epoch: Math.min(...atStep.map((p) => p.epoch)),
        proxy: avg((p) => p.proxy),
        gold: avg((p) => p.gold),
        kl: avg((p) => p.kl),
        count: atStep.reduce((s, p) => s + p.count, 0),
        proxyGain: avg((p) => p.proxyGain),
        goldGain: avg((p) => p.goldGain),
        baseStep: Math.max(...atStep.map((p) => p.baseStep)),
      });
    }
  }
  return out.sort((a, b) => a.method.localeCompare(b.method) || byCheckpoint(a, b));
}

/** Summaries of every series, plus the mean-over-seeds series of methods run with several seeds. */
export function summarizeProxyGold(points: readonly ProxyGoldPoint[]): ProxyGoldSummary[] {
  const rec = recentre(points);
  const out = [...groupBy(rec, seriesKey).values()].map(summarizeSeries);
  const pooled = meanOverSeeds(rec);
  for (const series of groupBy(pooled, (p) => JSON.stringify([p.run, p.method])).values()) {
    const seeds = new Set(rec.filter((p) => p.run === series[0]!.run && p.method === series[0]!.method).map((p) => p.seed));
    if (seeds.size > 1) out.push(summarizeSeries(series));
  }
  return out.sort((a, b) => a.run.localeCompare(b.run) || a.method.localeCompare(b.method) || a.seed - b.seed);
}

/** Points of one split read back from accumulated proxy_reward / gold_reward / kl_to_init. */
export function proxyGoldPoints(acc: MetricAccumulator, split: string): ProxyGoldPoint[] {
  const points = new Map<string, ProxyGoldPoint>();
  for (const e of acc.list()) {
    const k = e.key;
    if (k.split !== split || ![PROXY_METRIC, GOLD_METRIC, KL_METRIC].includes(k.metric) || e.count === 0) continue;
    const id = JSON.stringify([k.run, k.method, k.seed, k.step, k.epoch]);
    let p = points.get(id);
    if (!p) {
      p = { run: k.run, method: k.method, seed: k.seed, step: k.step, epoch: k.epoch, proxy: NaN, gold: NaN, kl: NaN, count: 0 };
      points.set(id, p);
    }
    const mean = e.sum / e.count;
    if (k.metric === PROXY_METRIC) {
      p.proxy = mean;
      p.count = e.count;
    } else if (k.metric === GOLD_METRIC) p.gold = mean;
    else p.kl = mean;
  }
  return [...points.values()].filter((p) => !Number.isNaN(p.proxy) && !Number.isNaN(p.gold));
}

export const DERIVED_METRICS = {
  proxyGain: 'proxy_gain',
  goldGain: 'gold_gain',
  peakGold: 'peak_gold',
  proxyAtPeak: 'proxy_at_peak',
  gap: 'gold_proxy_gap',
  klAtPeak: 'kl_at_peak',
} as const;

/**
 * Records derived from accumulated points of each split: proxy_gain and
 * gold_gain per checkpoint (recentred by step 0), and per series the summary
 * peak_gold, proxy_at_peak, gold_proxy_gap, kl_at_peak, labelled with the
 * step and epoch of the peak (seed −1: the mean curve over seeds).
 */
export function proxyGoldRecords(acc: MetricAccumulator, splits: readonly string[]): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (const split of splits) {
    const points = proxyGoldPoints(acc, split);
    if (points.length === 0) continue;
    for (const p of recentre(points)) {
      const base = { run: p.run, method: p.method, seed: p.seed, step: p.step, epoch: p.epoch, split, count: p.count };
      out.push({ ...base, metric: DERIVED_METRICS.proxyGain, value: p.proxyGain });
      out.push({ ...base, metric: DERIVED_METRICS.goldGain, value: p.goldGain });
    }
    for (const s of summarizeProxyGold(points)) {
      const base = { run: s.run, method: s.method, seed: s.seed, step: s.step, epoch: s.epoch, split, count: 1 };
      out.push({ ...base, metric: DERIVED_METRICS.peakGold, value: s.peakGold });
      out.push({ ...base, metric: DERIVED_METRICS.proxyAtPeak, value: s.proxyAtPeak });
      out.push({ ...base, metric: DERIVED_METRICS.gap, value: s.gap });
      if (!Number.isNaN(s.klAtPeak)) out.push({ ...base, metric: DERIVED_METRICS.klAtPeak, value: s.klAtPeak });
    }
  }
  return out;
}
