/**
 * From metric records to the lines of each plot kind:
 *
 * - metric_vs_step: per method, the metric at each step (or epoch) averaged
 *   over replicates (run × seed), band = ± sample std where ≥ 2 replicates.
 *   With x = epoch, a replicate's latest step within the epoch is used. A
 *   method continued from another's checkpoint is shifted to start where
 *   that checkpoint ended (legend: "continues bc after epoch 12"); methods
 *   with no steps (evaluated baselines) are dashed reference lines.
 * - metric_vs_param / reward_vs_noise: per replicate one value (last or best
 *   checkpoint, as in the comparison table); x is the swept parameter read
 *   from the method name, else the run name (name-params.ts: `exp_rsft@lambda=0.5`),
 *   else a numeric record field (seed, step, epoch). One line per method base
 *   name; methods without the parameter become dashed horizontal reference
 *   lines (e.g. BC across a λ sweep).
 * - gold_proxy_vs_kl (paper 004 Fig./Table 1): per method, the mean gold and
 *   proxy reward at each checkpoint against the mean KL to the initial policy
 *   there, joined in KL order; gold solid, proxy dashed, same colour; the
 *   peak gold ringed.
 *   `recenter` subtracts each replicate's value at its first checkpoint.
 */
import { compareCheckpoints, mean, sampleStd, selectValues, type SelectMode } from '../aggregate.js';
import type { MetricTable } from '../metric-table.js';
import { MARKERS, PALETTE, type ChartSeries, type RefLine } from './chart.js';
import type { Continuation } from './continuations.js';
import { displayName } from './display-names.js';
import { nameWithout, numericParam, parseNameParams } from './name-params.js';

export interface PlotData {
  series: ChartSeries[];
  refLines: RefLine[];
  highlights: { x: number; y: number; color: string }[];
  legendKeys: { label: string; dash: boolean; ring?: boolean }[];
  xLabel: string;
  yLabel: string;
  title: string;
  split: string;
  warnings: string[];
}

const repKey = (run: string, seed: number) => `${run}\u0000${seed}`;
const styleOf = (k: number, markers: boolean) => ({ color: PALETTE[k % PALETTE.length]!, marker: markers ? MARKERS[k % MARKERS.length]! : null });

/**
 * The split to plot `metric` from: the one asked for, else the only split
 * that has it, else test, else valid, else the first seen.
 */
export function resolveSplit(t: MetricTable, metric: string, wanted: string | undefined): string {
  if (wanted) return wanted;
  const splits = t.splitsOf(metric);
  if (splits.length === 0) {
    throw new Error(`no records of metric "${metric}" (metrics seen: ${t.metricsIn().join(', ') || 'none'})`);
  }
  if (splits.length === 1) return splits[0]!;
  for (const s of ['test', 'valid']) if (splits.includes(s)) return s;
  return splits[0]!;
}

/** Mean and ± std band of groups of values (std only from two values). */
function meanBand(groups: number[][]): { ys: number[]; lo: number[]; hi: number[] } {
  const ys: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (const g of groups) {
    const m = mean(g);
    const s = sampleStd(g);
    ys.push(m);
    lo.push(Number.isNaN(s) ? Number.NaN : m - s);
    hi.push(Number.isNaN(s) ? Number.NaN : m + s);
  }
  return { ys, lo, hi };
}

export interface StepOptions {
  metric: string;
  split?: string;
  x: 'step' | 'epoch';
  methods?: readonly string[];
  markers: boolean;
  /** Methods continued from another method's checkpoint: x is offset by where it ended (continuations.ts). */
  offsets?: ReadonlyMap<string, Continuation>;
}

/** Whether every x of a method is 0: an evaluated baseline (popularity) without training steps. */
const hasNoSteps = (reps: Map<string, Map<number, number>>) => [...reps.values()].every((xs) => xs.size === 1 && xs.has(0));

export function metricVsStep(t: MetricTable, o: StepOptions): PlotData {
  const split = resolveSplit(t, o.metric, o.split);
  const want = o.methods ? new Set(o.methods) : undefined;
  // method → replicate → x → row of the latest checkpoint at that x.
  const byMethod = new Map<string, Map<string, Map<number, number>>>();
  for (let i = 0; i < t.size; i++) {
    if (t.split[i] !== split || t.metric[i] !== o.metric) continue;
    if (want && !want.has(t.method[i]!)) continue;
    let reps = byMethod.get(t.method[i]!);
    if (!reps) byMethod.set(t.method[i]!, (reps = new Map()));
    const rk = repKey(t.run[i]!, t.seed[i]!);
    let xs = reps.get(rk);
    if (!xs) reps.set(rk, (xs = new Map()));
    const xv = o.x === 'epoch' ? t.epoch[i]! : t.step[i]!;
    const at = xs.get(xv);
    if (at === undefined || compareCheckpoints(t.epoch[i]!, t.step[i]!, t.epoch[at]!, t.step[at]!) > 0) xs.set(xv, i);
  }
  const methods = o.methods ? o.methods.filter((m) => byMethod.has(m)) : [...byMethod.keys()];
  const warnings: string[] = [];
  if (methods.length === 0) warnings.push(`no records of "${o.metric}" in split "${split}"${o.methods ? ` for methods ${o.methods.join(', ')}` : ''}`);
  // Baselines (no steps) are dashed reference lines when trained methods give the axis a range.
  const trained = methods.filter((m) => !hasNoSteps(byMethod.get(m)!));
  const baselines = trained.length > 0 ? methods.filter((m) => hasNoSteps(byMethod.get(m)!)) : [];
  const series = trained.map((m, k): ChartSeries => {
    const reps = [...byMethod.get(m)!.values()];
    const cont = o.offsets?.get(m);
    const shift = cont ? (o.x === 'epoch' ? cont.epoch : cont.step) : 0;
    const xs = [...new Set(reps.flatMap((r) => [...r.keys()]))].sort((a, b) => a - b);
    const groups = xs.map((xv) => reps.flatMap((r) => (r.has(xv) ? [t.value[r.get(xv)!]!] : [])).filter((v) => !Number.isNaN(v)));
    const label = cont ? `${m} (continues ${cont.from} after ${o.x} ${shift})` : m;
    return { id: m, label, xs: xs.map((xv) => xv + shift), ...meanBand(groups), ...styleOf(k, o.markers) };
  });
  const refLines = baselines.map((m, k): RefLine => {
    const vs = [...byMethod.get(m)!.values()].map((r) => t.value[r.get(0)!]!).filter((v) => !Number.isNaN(v));
    const mu = mean(vs);
    const s = sampleStd(vs);
    return { id: m, label: m, y: mu, ...(Number.isNaN(s) ? {} : { lo: mu - s, hi: mu + s }), color: PALETTE[(trained.length + k) % PALETTE.length]! };
  });
  return {
    series,
    refLines,
    highlights: [],
    legendKeys: [],
    xLabel: o.x,
    yLabel: `${displayName(o.metric)} (${split})`,
    title: `${displayName(o.metric)} vs ${o.x}`,
    split,
    warnings,
  };
}

export interface ParamOptions {
  metric: string;
  split?: string;
  /** Parameter name; '' = the only parameter found in the names. */
  x: string;
  xLabel?: string;
  select: SelectMode;
  bestBy?: string;
  bestSplit?: string;
  lowerIsBetter: (metric: string) => boolean;
  methods?: readonly string[];
  markers: boolean;
}

const RECORD_FIELDS = new Set(['seed', 'step', 'epoch']);

/** Parameter keys present in method and run names of rows with `metric` in `split`. */
export function parameterKeys(t: MetricTable, metric: string, split: string): string[] {
  const keys = new Set<string>();
  const names = new Set<string>();
  for (let i = 0; i < t.size; i++) {
    if (t.split[i] !== split || t.metric[i] !== metric) continue;
    names.add(t.method[i]!);
    names.add(t.run[i]!);
  }
  for (const n of names) for (const k of parseNameParams(n).params.keys()) keys.add(k);
  return [...keys];
}

export function metricVsParam(t: MetricTable, o: ParamOptions): PlotData {
  const split = resolveSplit(t, o.metric, o.split);
  let x = o.x;
  if (!x) {
    const keys = parameterKeys(t, o.metric, split);
    if (keys.length !== 1) {
      throw new Error(
        keys.length === 0
          ? `no parameter found in method or run names (write them as name@key=value, e.g. exp_rsft@lambda=0.5), and no \`x\` given`
          : `several parameters in the names (${keys.join(', ')}); choose one with \`x\``,
      );
    }
    x = keys[0]!;
  }
  const sel = selectValues(t, {
    split,
    metrics: [o.metric],
    methods: o.methods,
    select: o.select,
    bestBy: o.bestBy ?? o.metric,
    bestSplit: o.bestSplit,
    lowerIsBetter: o.lowerIsBetter,
  });
  const warnings = [...sel.warnings];
  const points = new Map<string, Map<number, number[]>>();
  const refs = new Map<string, number[]>();
  for (const m of sel.methods) {
    const mp = parseNameParams(m);
    for (const v of sel.values.get(m)?.get(o.metric) ?? []) {
      if (Number.isNaN(v.value)) continue;
      let xv = numericParam(mp, x, m) ?? numericParam(parseNameParams(v.run), x, v.run);
      if (xv === undefined && RECORD_FIELDS.has(x)) xv = v[x as 'seed' | 'step' | 'epoch'];
      if (xv === undefined) {
        let r = refs.get(m);
        if (!r) refs.set(m, (r = []));
        r.push(v.value);
        continue;
      }
      const key = nameWithout(mp, x);
      let byX = points.get(key);
      if (!byX) points.set(key, (byX = new Map()));
      let g = byX.get(xv);
      if (!g) byX.set(xv, (g = []));
      g.push(v.value);
    }
  }
  if (points.size === 0) warnings.push(`no method of "${o.metric}" in split "${split}" has the parameter "${x}" in its method or run name`);
  let k = 0;
  const series = [...points].map(([key, byX]): ChartSeries => {
    const xs = [...byX.keys()].sort((a, b) => a - b);
    return { id: key, label: key, xs, ...meanBand(xs.map((xv) => byX.get(xv)!)), ...styleOf(k++, o.markers) };
  });
  const refLines = [...refs].map(([m, vs]): RefLine => {
    const mu = mean(vs);
    const s = sampleStd(vs);
    return { id: m, label: m, y: mu, ...(Number.isNaN(s) ? {} : { lo: mu - s, hi: mu + s }), color: PALETTE[k++ % PALETTE.length]! };
  });
  const how = o.select === 'last' ? 'last checkpoint' : `best ${o.bestBy ?? o.metric}`;
  return {
    series,
    refLines,
    highlights: [],
    legendKeys: [],
    xLabel: o.xLabel ?? x,
    yLabel: `${displayName(o.metric)} (${split}, ${how})`,
    title: `${displayName(o.metric)} vs ${o.xLabel ?? x}`,
    split,
    warnings,
  };
}

export interface GoldProxyOptions {
  split?: string;
  gold: string;
  proxy: string;
  kl: string;
  recenter: boolean;
  methods?: readonly string[];
  markers: boolean;
}

export function goldProxyVsKl(t: MetricTable, o: GoldProxyOptions): PlotData {
  const split = resolveSplit(t, o.gold, o.split);
  const want = o.methods ? new Set(o.methods) : undefined;
  const which = new Map([
    [o.gold, 0],
    [o.proxy, 1],
    [o.kl, 2],
  ]);
  // method → replicate → checkpoint "epoch/step" → [gold, proxy, kl, epoch, step]
  const byMethod = new Map<string, Map<string, Map<string, number[]>>>();
  for (let i = 0; i < t.size; i++) {
    if (t.split[i] !== split) continue;
    const w = which.get(t.metric[i]!);
    if (w === undefined || (want && !want.has(t.method[i]!))) continue;
    let reps = byMethod.get(t.method[i]!);
    if (!reps) byMethod.set(t.method[i]!, (reps = new Map()));
    const rk = repKey(t.run[i]!, t.seed[i]!);
    let cps = reps.get(rk);
    if (!cps) reps.set(rk, (cps = new Map()));
    const ck = `${t.epoch[i]}/${t.step[i]}`;
    let row = cps.get(ck);
    if (!row) cps.set(ck, (row = [Number.NaN, Number.NaN, Number.NaN, t.epoch[i]!, t.step[i]!]));
    row[w] = t.value[i]!;
  }
  const methods = o.methods ? o.methods.filter((m) => byMethod.has(m)) : [...byMethod.keys()];
  const warnings: string[] = [];
  const series: ChartSeries[] = [];
  const highlights: PlotData['highlights'] = [];
  methods.forEach((m, k) => {
    // checkpoint → values over replicates
    const acc = new Map<string, { epoch: number; step: number; gold: number[]; proxy: number[]; kl: number[] }>();
    let incomplete = 0;
    for (const cps of byMethod.get(m)!.values()) {
      const rows = [...cps.values()].sort((a, b) => compareCheckpoints(a[3]!, a[4]!, b[3]!, b[4]!));
      const first = (w: number) => rows.find((r) => !Number.isNaN(r[w]!))?.[w] ?? 0;
      const g0 = o.recenter ? first(0) : 0;
      const p0 = o.recenter ? first(1) : 0;
      for (const r of rows) {
        if (Number.isNaN(r[0]!) || Number.isNaN(r[1]!) || Number.isNaN(r[2]!)) {
          incomplete++;
          continue;
        }
        const ck = `${r[3]}/${r[4]}`;
        let a = acc.get(ck);
        if (!a) acc.set(ck, (a = { epoch: r[3]!, step: r[4]!, gold: [], proxy: [], kl: [] }));
        a.gold.push(r[0]! - g0);
        a.proxy.push(r[1]! - p0);
        a.kl.push(r[2]!);
      }
    }
    if (incomplete > 0) warnings.push(`${incomplete} checkpoint(s) of "${m}" lack one of ${o.gold}, ${o.proxy}, ${o.kl} and are left out`);
    // Joined in KL order, as paper 004 draws reward against KL: the curve reads left to right (ties by checkpoint).
    const cps = [...acc.values()].sort((a, b) => mean(a.kl) - mean(b.kl) || compareCheckpoints(a.epoch, a.step, b.epoch, b.step));
    if (cps.length === 0) return;
    const style = styleOf(k, o.markers);
    const xs = cps.map((c) => mean(c.kl));
    const gold = meanBand(cps.map((c) => c.gold));
    const proxy = meanBand(cps.map((c) => c.proxy));
    series.push({ id: `${m}:gold`, label: m, xs, ...gold, ...style });
    series.push({ id: `${m}:proxy`, label: null, xs, ...proxy, ...style, dash: true });
    let peak = 0;
    gold.ys.forEach((v, i) => {
      if (v > gold.ys[peak]!) peak = i;
    });
    highlights.push({ x: xs[peak]!, y: gold.ys[peak]!, color: style.color });
  });
  if (series.length === 0) warnings.push(`no checkpoint has all of ${o.gold}, ${o.proxy}, ${o.kl} in split "${split}"`);
  return {
    series,
    refLines: [],
    highlights,
    legendKeys: [
      { label: displayName(o.gold), dash: false },
      { label: displayName(o.proxy), dash: true },
      { label: `peak ${displayName(o.gold)}`, dash: false, ring: true },
    ],
    xLabel: `${displayName(o.kl)} (${o.kl})`,
    yLabel: o.recenter ? `${displayName(o.gold)} / ${displayName(o.proxy)} − first checkpoint` : `${displayName(o.gold)} / ${displayName(o.proxy)}`,
    title: 'Gold and proxy reward vs KL',
    split,
    warnings,
  };
}
