import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import { bitmapTextPath, bitmapTextWidth } from '../../stages/sinks/plot/bitmap-font.js';
import { layoutChart } from '../../stages/sinks/plot/chart.js';
import { fontRenders, loadResvg, renderPng } from '../../stages/sinks/plot/png.js';
import { goldProxyVsKl, metricVsParam } from '../../stages/sinks/plot/series.js';
import { sceneToSvg } from '../../stages/sinks/plot/svg.js';
import { plotFiles, plotStage, writePlot, type PlotConfig } from '../../stages/sinks/plot-stage.js';
import { defaultLowerIsBetter } from '../../stages/sinks/aggregate.js';
import { runWith, testSource, tmpDir } from './helpers.js';
import { axisTicks, seriesPaths, tickMap } from './svg-parse.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const rec = (method: string, seed: number, step: number, split: string, metric: string, value: number, run = 'r') =>
  metricRecord({ run, method, seed, step, epoch: 0, split, metric, value });

const STEPS = [0, 100, 300, 1000];
const BASE: Record<string, number> = { bc: 0.1, exp_rsft: 0.12, drpo: 0.15 };
/** value = base + step/10⁴ + seed/100: the mean over seeds 0, 1 is base + step/10⁴ + 0.005. */
const STEP_RECORDS: MetricRecord[] = Object.entries(BASE).flatMap(([m, b]) =>
  [0, 1].flatMap((seed) => STEPS.map((s) => rec(m, seed, s, 'test', 'ndcg@10', b + s / 1e4 + seed / 100))),
);

const tableOf = (rs: MetricRecord[]) => {
  const t = new MetricTable();
  t.addRecords(rs);
  return t;
};

const config = (raw: Record<string, unknown>) => validateConfig<PlotConfig>('plot', plotStage.fields, raw);

describe('plot: metric_vs_step', () => {
  it('draws one path per method with points mapped through the axis scales', async () => {
    const dir = tmpDir('plot-step');
    const file = path.join(dir, 'ndcg.svg');
    const batches = [metricsToBatch(STEP_RECORDS.slice(0, 10)), metricsToBatch(STEP_RECORDS.slice(10))];
    const h = await runWith(testSource(batches), [[plotStage, { metric: 'ndcg@10', path: file }]], dir);
    expect(h.out).toEqual(batches);
    expect(fs.existsSync(path.join(dir, 'ndcg.png'))).toBe(false); // .svg path → SVG only
    const svg = fs.readFileSync(file, 'utf8');
    const paths = seriesPaths(svg);
    expect([...paths.keys()]).toEqual(['bc', 'exp_rsft', 'drpo']);
    const ticks = axisTicks(svg);
    expect(ticks.x.length).toBeGreaterThanOrEqual(3);
    expect(ticks.y.length).toBeGreaterThanOrEqual(3);
    const px = tickMap(ticks.x);
    const py = tickMap(ticks.y);
    for (const [m, pts] of paths) {
      expect(pts).toHaveLength(STEPS.length);
      pts.forEach(([x, y], i) => {
        expect(x).toBeCloseTo(px(STEPS[i]!), 1);
        expect(y).toBeCloseTo(py(BASE[m]! + STEPS[i]! / 1e4 + 0.005), 1);
        if (i > 0) {
          // larger step → further right; larger value → higher up (smaller SVG y)
          expect(x).toBeGreaterThan(pts[i - 1]![0]);
          expect(y).toBeLessThan(pts[i - 1]![1]);
        }
      });
    }
    // ± std bands (two seeds) and one marker per point
    expect([...seriesPaths(svg, 'band').keys()]).toEqual(['bc', 'exp_rsft', 'drpo']);
    const markers = svg.match(/<g class="markers" data-series="exp_rsft">(.*?)<\/g>/)![1]!;
    expect(markers.match(/class="marker"/g)).toHaveLength(STEPS.length);
    // axis labels
    expect(svg).toContain('>step</text>');
    expect(svg).toContain('>NDCG@10 (test)</text>');
    expect(h.result.artifacts.get(`plot:${file}`)).toEqual({ svg: file });
  });

  it('keeps the legend and labels inside the image', () => {
    const { scene } = layoutChart({
      width: 500,
      height: 300,
      title: 'a title',
      xLabel: 'step',
      yLabel: 'value',
      series: [{ id: 'a-very-long-method-name@lambda=0.5,beta=2', label: 'a-very-long-method-name@lambda=0.5,beta=2', xs: [0, 1], ys: [0, 1], color: '#000' }],
    });
    const svg = sceneToSvg(scene);
    for (const m of svg.matchAll(/<(?:text|line|rect|circle)[^>]*?\b(?:x|x1|x2|cx)="([-\d.]+)"/g)) {
      expect(Number(m[1])).toBeGreaterThanOrEqual(0);
      expect(Number(m[1])).toBeLessThanOrEqual(500);
    }
    // the legend box ends inside the image
    const legend = svg.match(/<g class="legend"><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/)!;
    expect(Number(legend[1]) + Number(legend[2])).toBeLessThanOrEqual(500);
  });
});

describe('plot: parameter sweeps', () => {
  const LAMBDAS = [0.1, 0.5, 1, 5];
  const sweep: MetricRecord[] = [
    ...LAMBDAS.flatMap((l) => [0, 1].map((seed) => rec(`exp_rsft@lambda=${l}`, seed, 100, 'test', 'ndcg@10', 0.14 - 0.01 * Math.log10(l) ** 2 + seed * 0.002))),
    ...[0, 1].map((seed) => rec('bc', seed, 100, 'test', 'ndcg@10', 0.13 + seed * 0.002)),
    // an earlier checkpoint that `select: last` ignores
    rec('exp_rsft@lambda=1', 0, 50, 'test', 'ndcg@10', 0.01),
  ];

  it('maps λ from the method names through a log axis and draws methods without λ as reference lines', () => {
    const t = tableOf(sweep);
    const data = metricVsParam(t, { metric: 'ndcg@10', x: '', select: 'last', lowerIsBetter: defaultLowerIsBetter, markers: true });
    expect(data.xLabel).toBe('lambda');
    expect(data.series.map((s) => s.id)).toEqual(['exp_rsft']);
    expect(data.series[0]!.xs).toEqual(LAMBDAS);
    data.series[0]!.ys.forEach((y, i) => expect(y).toBeCloseTo(0.14 - 0.01 * Math.log10(LAMBDAS[i]!) ** 2 + 0.001, 12));
    expect(data.refLines.map((r) => [r.id, r.y])).toEqual([['bc', expect.closeTo(0.131, 12)]]);

    const { scene } = layoutChart({ width: 700, height: 420, xLabel: 'λ', yLabel: 'NDCG@10', logX: true, series: data.series, refLines: data.refLines });
    const svg = sceneToSvg(scene);
    const ticks = axisTicks(svg);
    const px = tickMap(ticks.x, Math.log10);
    const py = tickMap(ticks.y);
    const pts = seriesPaths(svg).get('exp_rsft')!;
    pts.forEach(([x, y], i) => {
      expect(x).toBeCloseTo(px(LAMBDAS[i]!), 1);
      expect(y).toBeCloseTo(py(data.series[0]!.ys[i]!), 1);
    });
    // equal ratios of λ are equal distances on a log axis: 0.1 → 1 and 0.5 → 5
    expect(pts[2]![0] - pts[0]![0]).toBeCloseTo(pts[3]![0] - pts[1]![0], 1);
    const ref = svg.match(/<g class="reference" data-series="bc">.*?<line x1="[\d.]+" y1="([\d.]+)"/)!;
    expect(Number(ref[1])).toBeCloseTo(py(0.131), 1);
  });

  it('takes the parameter from run names, and asks for x when names hold several', () => {
    const rs = [0, 0.4, 0.8].flatMap((n) => [
      rec('drpo', 0, 1, 'test', 'reward', 0.37 - n / 10, `recsim@noise=${n}`),
      rec('awr', 0, 1, 'test', 'reward', 0.33 - n / 4, `recsim@noise=${n}`),
    ]);
    const data = metricVsParam(tableOf(rs), { metric: 'reward', x: 'noise', select: 'last', lowerIsBetter: () => false, markers: false });
    expect(data.series.map((s) => [s.id, s.xs, s.ys.map((y) => Number(y.toFixed(6)))])).toEqual([
      ['drpo', [0, 0.4, 0.8], [0.37, 0.33, 0.29]],
      ['awr', [0, 0.4, 0.8], [0.33, 0.23, 0.13]],
    ]);
    const two = [rec('m@a=1,b=2', 0, 1, 'test', 'hr', 1), rec('m@a=2,b=2', 0, 1, 'test', 'hr', 2)];
    expect(() => metricVsParam(tableOf(two), { metric: 'hr', x: '', select: 'last', lowerIsBetter: () => false, markers: false })).toThrow(
      /several parameters in the names \(a, b\)/,
    );
    const byA = metricVsParam(tableOf(two), { metric: 'hr', x: 'a', select: 'last', lowerIsBetter: () => false, markers: false });
    expect(byA.series.map((s) => [s.id, s.xs])).toEqual([['m@b=2', [1, 2]]]);
    expect(() =>
      metricVsParam(tableOf([rec('m@a=x', 0, 1, 'test', 'hr', 1)]), { metric: 'hr', x: 'a', select: 'last', lowerIsBetter: () => false, markers: false }),
    ).toThrow(/parameter a=x is not a number/);
  });
});

describe('plot: gold and proxy vs KL', () => {
  it('averages replicates per checkpoint, recentres at the first checkpoint and rings the peak gold', () => {
    const rs: MetricRecord[] = [];
    // seed s: kl = k/10, proxy = 1 + k + s, gold = 2 + s + (k ≤ 2 ? k : 4 − k)
    for (const s of [0, 1])
      for (let k = 0; k <= 4; k++) {
        rs.push(
          rec('grpo', s, k * 10, 'test', 'kl', k / 10),
          rec('grpo', s, k * 10, 'test', 'proxy_reward', 1 + k + s),
          rec('grpo', s, k * 10, 'test', 'gold_reward', 2 + s + (k <= 2 ? k : 4 - k)),
        );
      }
    const data = goldProxyVsKl(tableOf(rs), { gold: 'gold_reward', proxy: 'proxy_reward', kl: 'kl', recenter: true, markers: true });
    const gold = data.series.find((s) => s.id === 'grpo:gold')!;
    const proxy = data.series.find((s) => s.id === 'grpo:proxy')!;
    expect(gold.xs.map((v) => Number(v.toFixed(9)))).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(gold.ys).toEqual([0, 1, 2, 1, 0]);
    expect(proxy.ys).toEqual([0, 1, 2, 3, 4]);
    expect(proxy.dash).toBe(true);
    expect(proxy.label).toBeNull();
    expect(gold.color).toBe(proxy.color);
    expect(data.highlights).toEqual([{ x: expect.closeTo(0.2, 9), y: 2, color: gold.color }]);
    // without recentring the seed offsets stay in: mean gold at k = 0 is 2.5
    const raw = goldProxyVsKl(tableOf(rs), { gold: 'gold_reward', proxy: 'proxy_reward', kl: 'kl', recenter: false, markers: true });
    expect(raw.series[0]!.ys[0]).toBe(2.5);
  });
});

describe('PNG rendering', () => {
  it('writes SVG and PNG for a path without extension; the PNG has the PNG signature', async () => {
    const dir = tmpDir('png');
    const log = memoryLogger();
    const base = path.join(dir, 'plots', 'ndcg');
    const written = await writePlot(tableOf(STEP_RECORDS), config({ metric: 'ndcg@10', png_scale: 1 }), base, log);
    expect(plotFiles(base)).toEqual({ svg: `${base}.svg`, png: `${base}.png` });
    expect(written!.svg).toBe(`${base}.svg`);
    const { error } = await loadResvg();
    if (error) {
      // the native binding did not load on this machine: SVG only, one warning
      expect(written!.png).toBeUndefined();
      expect(log.lines.filter((l) => l.includes('PNG not written'))).toHaveLength(1);
      return;
    }
    const png = fs.readFileSync(`${base}.png`);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    // IHDR: width and height of the image, big-endian, at bytes 16 and 20
    expect(png.readUInt32BE(16)).toBe(760);
    expect(png.readUInt32BE(20)).toBe(460);
  });

  it('draws labels with the built-in bitmap font when no font renders', async () => {
    const { mod } = await loadResvg();
    if (!mod) return; // covered by plot-no-resvg.test.ts
    // no system fonts and no font file: resvg draws no text at all …
    expect(fontRenders(mod, { systemFonts: false })).toBe(false);
    const { scene } = layoutChart({
      width: 400,
      height: 260,
      xLabel: 'HHHHHHHH',
      yLabel: 'y',
      series: [{ id: 's', label: null, xs: [0, 1], ys: [0, 1], color: '#000' }],
    });
    const textOnly = { ...scene, shapes: scene.shapes.filter((s) => s.kind === 'group' && s.cls === 'axis x') };
    const { result } = await renderPng(sceneToSvg(textOnly, 'text'), () => sceneToSvg(textOnly, 'outline'), { systemFonts: false, scale: 1 });
    expect(result!.text).toBe('bitmap');
    // … so the label must come from the bitmap outlines: dark pixels in the x-label band at the bottom
    const { width, pixels } = result!;
    let dark = 0;
    for (let row = 260 - 30; row < 260; row++) for (let col = 0; col < width; col++) if (pixels[(row * width + col) * 4]! < 100) dark++;
    // eight "H" glyphs of 7 rows: 2 full columns + the bar, at u = 13/9.6 px per dot
    expect(dark).toBeGreaterThan(8 * (2 * 7 + 3) * (13 / 9.6) ** 2 * 0.5);
    const outlined = sceneToSvg(textOnly, 'outline');
    expect(outlined).not.toContain('<text');
  });
});

describe('bitmap font', () => {
  it('has the advertised width and baseline', () => {
    const d = bitmapTextPath('HM', 10, 50, 9.6);
    const xs = [...d.matchAll(/M([\d.]+) ([\d.]+)h([\d.]+)/g)].flatMap((m) => [Number(m[1]), Number(m[1]) + Number(m[3])]);
    const ys = [...d.matchAll(/M[\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.min(...xs)).toBe(10);
    expect(Math.max(...xs)).toBe(10 + bitmapTextWidth('HM', 9.6));
    expect(bitmapTextWidth('HM', 9.6)).toBe(11);
    expect(Math.min(...ys)).toBe(43); // cap height 7 dots above the baseline
    expect(Math.max(...ys)).toBe(49); // the last row ends on the baseline
    expect(bitmapTextPath('g', 0, 50, 9.6)).toContain('M1 51h3'); // the last descender row (9) spans y 51..52, two dots below the baseline
  });
});

describe('plot stage', () => {
  it('rejects a missing metric at configuration and warns (writing nothing) when there is no data', async () => {
    await expect(runWith(testSource([]), [[plotStage, { kind: 'metric_vs_step' }]])).rejects.toThrow(/kind metric_vs_step needs `metric`/);
    const dir = tmpDir('plot-empty');
    const h = await runWith(testSource([metricsToBatch(STEP_RECORDS)]), [[plotStage, { metric: 'mrr', path: path.join(dir, 'p') }]], dir);
    expect(h.log.join('\n')).toMatch(/warning: plot \(metric_vs_step\): no records of metric "mrr" \(metrics seen: ndcg@10\); no plot written/);
    expect(fs.existsSync(path.join(dir, 'p.svg'))).toBe(false);
    expect(h.out).toHaveLength(1);
  });

  it('plots records emitted during the run (records: run)', async () => {
    const dir = tmpDir('plot-run');
    const emitted = [1, 2, 3].map((s) => rec('sasrec', 0, s, 'train', 'loss', 4 - s));
    await runWith(
      testSource([metricsToBatch([rec('other', 0, 1, 'train', 'loss', 9)])], emitted),
      [[plotStage, { metric: 'loss', path: path.join(dir, 'loss.svg'), records: 'run' }]],
      dir,
    );
    const svg = fs.readFileSync(path.join(dir, 'loss.svg'), 'utf8');
    expect([...seriesPaths(svg).keys()]).toEqual(['sasrec']);
  });
});
