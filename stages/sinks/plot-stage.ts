/** `plot` sink: line charts of metric records as SVG and PNG. */
import * as path from 'node:path';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { ARTIFACT, plotArtifact } from '../core/artifacts.js';
import { defineStage, type StageContext } from '../core/stage.js';
import { writeFileAtomic } from '../io/parquet.js';
import { defaultLowerIsBetter } from './aggregate.js';
import type { MetricTable } from './metric-table.js';
import { layoutChart } from './plot/chart.js';
import { continuationOffsets, findCheckpoints, type CheckpointRef, type Continuation } from './plot/continuations.js';
import { renderPng } from './plot/png.js';
import { goldProxyVsKl, metricVsParam, metricVsStep, type PlotData } from './plot/series.js';
import { minSafeLambdaLine } from './plot/theory-line.js';
import { sceneToSvg } from './plot/svg.js';
import { recordsField, ReportInput } from './report-input.js';

const plotFields = {
  kind: {
    type: 'string',
    enum: ['metric_vs_step', 'metric_vs_param', 'reward_vs_noise', 'gold_proxy_vs_kl'],
    default: 'metric_vs_step',
    doc: 'What to plot (see the doc).',
  },
  metric: {
    type: 'string',
    doc: 'Metric on the y axis (required for metric_vs_step and metric_vs_param; reward_vs_noise: default `true_reward_top1`, the true reward of the decoded recommendation).',
  },
  x: {
    type: 'string',
    doc: 'metric_vs_step: `step` (default) or `epoch`; metric_vs_param: the parameter name (default: the only one in the names); reward_vs_noise: default `noise`.',
  },
  split: { type: 'string', doc: 'Split of the records (default: the only split that has the metric, else test, else valid).' },
  path: { type: 'string', doc: 'Output path; without extension both .svg and .png (default <out_dir>/plots/<kind>-<metric>).' },
  title: { type: 'string', doc: 'Title (default from the kind and metric).' },
  x_label: { type: 'string', doc: 'x-axis label (default from the kind).' },
  y_label: { type: 'string', doc: 'y-axis label (default: the metric and split).' },
  log_x: { type: 'boolean', default: false, doc: 'Logarithmic x axis (points with x ≤ 0 are left out, with a warning).' },
  log_y: { type: 'boolean', default: false, doc: 'Logarithmic y axis.' },
  bands: { type: 'boolean', default: true, doc: 'Shade mean ± sample std over replicates where there are at least two.' },
  markers: { type: 'boolean', default: true, doc: 'Draw a marker at each point (shape varies by series).' },
  methods: { type: 'array', items: { type: 'string', doc: 'method name' }, default: [], doc: 'Methods to draw, in legend order (empty: all).' },
  select: {
    type: 'string',
    enum: ['last', 'best'],
    default: 'last',
    doc: 'metric_vs_param / reward_vs_noise: checkpoint per replicate (as in comparison_table).',
  },
  best_by: { type: 'string', doc: 'Metric that picks the checkpoint for `select: best` (default: `metric`).' },
  best_split: { type: 'string', doc: 'Split `best_by` is read from (default: the plotted split).' },
  lower_is_better: {
    type: 'array',
    items: { type: 'string', doc: 'metric name' },
    doc: 'Metrics where lower is better (for `best`); default: names containing loss, mse, mae, rmse, error, nll or kl (and gaps: closest to 0).',
  },
  gold_metric: {
    type: 'string',
    default: 'gold_gain',
    doc: "gold_proxy_vs_kl: metric of the gold (true) reward; `gold_gain` is evaluate_proxy_gold's gold reward recentred at step 0 (`gold_reward` is the raw one).",
  },
  proxy_metric: {
    type: 'string',
    default: 'proxy_gain',
    doc: 'gold_proxy_vs_kl: metric of the proxy reward (`proxy_gain`: recentred at step 0; `proxy_reward`: raw).',
  },
  kl_metric: { type: 'string', default: 'kl_to_init', doc: 'gold_proxy_vs_kl: metric of the KL to the initial policy (x axis).' },
  recenter: {
    type: 'boolean',
    default: false,
    doc: "gold_proxy_vs_kl: subtract each replicate's gold and proxy at its first checkpoint (for raw gold_reward / proxy_reward; the default *_gain metrics are already recentred).",
  },
  width: { type: 'integer', min: 240, default: 760, doc: 'Width in SVG pixels.' },
  height: { type: 'integer', min: 180, default: 460, doc: 'Height in SVG pixels.' },
  png_scale: { type: 'number', exclusiveMin: 0, max: 8, default: 2, doc: 'PNG pixels per SVG pixel.' },
  font: { type: 'string', doc: "A .ttf/.otf font file for the PNG text, besides the machine's fonts." },
  png_text: {
    type: 'string',
    enum: ['auto', 'font', 'bitmap'],
    default: 'auto',
    doc: 'PNG text: `auto` = a font if one renders, else the built-in bitmap font; `font` / `bitmap` force one.',
  },
  checkpoints_under: {
    type: 'array',
    items: { type: 'string', doc: 'directory' },
    default: [],
    doc: "metric_vs_step: directories searched for checkpoints (run directories read back by `recpost report`), to draw a run initialised from another method's checkpoint after it; the run's own checkpoints are always used.",
  },
  min_safe_lambda: {
    type: 'object',
    fields: {
      sigma: { type: 'number', min: 0, required: true, doc: 'σ: scale of the (sub-Gaussian) reward noise, in reward units.' },
      actions: { type: 'integer', min: 1, required: true, doc: '|A|: number of actions (the catalog size).' },
      delta: { type: 'number', exclusiveMin: 0, default: 0.05, doc: 'δ: failure probability (< 1).' },
      tau: { type: 'number', exclusiveMin: 0, required: true, doc: 'τ: tolerated value loss.' },
      rmax: { type: 'number', exclusiveMin: 0, required: true, doc: 'R_max: rewards lie in [0, R_max].' },
    },
    doc: "metric_vs_param over λ: mark paper 000's minimum safe temperature (Eq. 15) λ ≥ 2ε/log(1 + τ/R_max), ε = σ√(2 log(2|A|/δ)), as a vertical dotted line (the x range widens to hold it).",
  },
  records: recordsField,
} as const satisfies Fields;

export type PlotConfig = ConfigOf<typeof plotFields>;
export type PlotKind = PlotConfig['kind'];

/** Options that only some kinds need. */
function plotProblems(cfg: PlotConfig): string[] {
  return [
    ...((cfg.kind === 'metric_vs_step' || cfg.kind === 'metric_vs_param') && !cfg.metric ? [`kind ${cfg.kind} needs \`metric\``] : []),
    ...(cfg.min_safe_lambda && cfg.kind !== 'metric_vs_param' ? [`min_safe_lambda applies to kind metric_vs_param, not ${cfg.kind}`] : []),
    ...(cfg.min_safe_lambda && !(cfg.min_safe_lambda.delta < 1) ? [`min_safe_lambda.delta must be below 1 (got ${cfg.min_safe_lambda.delta})`] : []),
  ];
}

/** Files a plot `path` stands for: no extension → both; .svg or .png → that one. */
export function plotFiles(p: string): { svg?: string; png?: string } {
  const ext = path.extname(p).toLowerCase();
  if (ext === '.svg') return { svg: p };
  if (ext === '.png') return { png: p };
  return { svg: `${p}.svg`, png: `${p}.png` };
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

/** The lines of the configured kind (throws when the records cannot make them). */
export function plotData(t: MetricTable, cfg: PlotConfig, offsets?: ReadonlyMap<string, Continuation>): PlotData {
  const lowerSet = cfg.lower_is_better ? new Set(cfg.lower_is_better) : undefined;
  const lowerIsBetter = (m: string) => (lowerSet ? lowerSet.has(m) : defaultLowerIsBetter(m));
  const methods = cfg.methods.length > 0 ? cfg.methods : undefined;
  switch (cfg.kind) {
    case 'metric_vs_step':
      if (cfg.x && cfg.x !== 'step' && cfg.x !== 'epoch')
        throw new ConfigError(`stage "plot": for metric_vs_step, x must be step or epoch (got "${cfg.x}")`, ['x']);
      return metricVsStep(t, { metric: cfg.metric!, split: cfg.split, x: (cfg.x as 'step' | 'epoch') || 'step', methods, markers: cfg.markers, offsets });
    case 'metric_vs_param':
    case 'reward_vs_noise': {
      const noise = cfg.kind === 'reward_vs_noise';
      return metricVsParam(t, {
        metric: cfg.metric ?? 'true_reward_top1',
        split: cfg.split,
        x: cfg.x ?? (noise ? 'noise' : ''),
        xLabel: noise && !cfg.x ? 'injected noise ratio' : undefined,
        select: cfg.select,
        bestBy: cfg.best_by,
        bestSplit: cfg.best_split,
        lowerIsBetter,
        methods,
        markers: cfg.markers,
      });
    }
    case 'gold_proxy_vs_kl':
      return goldProxyVsKl(t, {
        split: cfg.split,
        gold: cfg.gold_metric,
        proxy: cfg.proxy_metric,
        kl: cfg.kl_metric,
        recenter: cfg.recenter,
        methods,
        markers: cfg.markers,
      });
  }
}

export interface WrittenPlot {
  svg?: string;
  png?: string;
  /** How the PNG's labels were drawn. */
  pngText?: 'font' | 'bitmap';
}

/** Lay out, write the SVG and/or PNG; warnings go to the log. Never throws for a PNG problem. */
export async function writePlot(
  t: MetricTable,
  cfg: PlotConfig,
  file: string,
  log: StageContext['log'],
  offsets?: ReadonlyMap<string, Continuation>,
): Promise<WrittenPlot | undefined> {
  let data: PlotData;
  try {
    data = plotData(t, cfg, offsets);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    log.warn(`plot (${cfg.kind}): ${(e as Error).message}; no plot written`);
    return undefined;
  }
  for (const w of data.warnings) log.warn(`plot (${cfg.kind}): ${w}`);
  const theory = cfg.min_safe_lambda ? minSafeLambdaLine(cfg.min_safe_lambda) : undefined;
  if (theory)
    log.info(`plot (${cfg.kind}): theory's minimum safe λ = ${theory.lambda.toPrecision(4)} (ε = ${theory.epsilon.toPrecision(4)}; paper 000 Eq. 15)`);
  if (data.series.length === 0 && data.refLines.length === 0) {
    log.warn(`plot (${cfg.kind}): nothing to draw; no plot written`);
    return undefined;
  }
  const layout = layoutChart({
    width: cfg.width,
    height: cfg.height,
    title: cfg.title ?? data.title,
    xLabel: cfg.x_label ?? data.xLabel,
    yLabel: cfg.y_label ?? data.yLabel,
    logX: cfg.log_x,
    logY: cfg.log_y,
    series: data.series,
    refLines: data.refLines,
    vLines: theory ? [theory.line] : [],
    highlights: data.highlights,
    legendKeys: data.legendKeys,
    bands: cfg.bands,
  });
  if (layout.dropped > 0)
    log.warn(`plot (${cfg.kind}): ${layout.dropped} point(s) left out (not finite${cfg.log_x || cfg.log_y ? ', or ≤ 0 on a log axis' : ''})`);
  const files = plotFiles(file);
  const out: WrittenPlot = {};
  const svg = sceneToSvg(layout.scene, 'text');
  if (files.svg) {
    writeFileAtomic(files.svg, svg);
    out.svg = files.svg;
  }
  if (files.png) {
    const { result, error } = await renderPng(svg, () => sceneToSvg(layout.scene, 'outline'), {
      fontFile: cfg.font,
      text: cfg.png_text,
      scale: cfg.png_scale,
    });
    if (result) {
      writeFileAtomic(files.png, result.png);
      out.png = files.png;
      out.pngText = result.text;
    } else log.warn(`plot: ${error}${out.svg ? `; SVG written to ${out.svg}` : ''}`);
  }
  return out;
}

export const plotStage = defineStage({
  name: 'plot',
  role: 'sink',
  summary: 'Line charts of metric records (metric vs step, vs a swept parameter, reward vs noise, gold/proxy vs KL) as SVG and PNG.',
  doc: [
    'Kinds:',
    '- `metric_vs_step`: `metric` against `x` = step or epoch, one line per method (mean over replicates, ± std band).',
    "  A method initialised from another method's checkpoint (`init: previous`) starts where that checkpoint ended",
    '  (legend: "exp_rsft (continues bc after epoch 12)"); methods without steps (baselines) are dashed reference lines.',
    '- `metric_vs_param`: `metric` (last or best checkpoint per replicate) against a swept parameter `x` read from',
    '  the method name, else the run name, written `name@key=value[,key=value]` (e.g. `exp_rsft@lambda=0.5`), or a',
    '  record field (seed, step, epoch). One line per base name; methods without the parameter (e.g. `bc`) are',
    "  dashed horizontal reference lines. `min_safe_lambda` marks paper 000's minimum safe λ (Eq. 15) as a vertical dotted line.",
    '- `reward_vs_noise`: `metric_vs_param` with `metric: true_reward_top1` and `x: noise` by default (`drpo@noise=0.4`).',
    '- `gold_proxy_vs_kl`: per method, gold (solid) and proxy (dashed) reward against the KL to the initial policy,',
    "  one point per checkpoint joined in KL order, the peak gold ringed (paper 004). Defaults read evaluate_proxy_gold's gold_gain,",
    '  proxy_gain (recentred at step 0) and kl_to_init; `recenter` recentres raw gold_reward / proxy_reward instead.',
    '',
    'Files: `path` without extension writes <path>.svg and <path>.png; ending in .svg or .png writes only that.',
    'The SVG is written by recpost itself (no plotting library). The PNG is rendered from it by @resvg/resvg-js; if',
    "that native module cannot load, only the SVG is written, with a warning. PNG text uses the machine's fonts (or",
    '`font`); with no usable font the labels are drawn in a built-in bitmap font, so the PNG is readable anywhere.',
    'Problems with the data (no records of the metric, nothing to draw) are warnings, not errors: a report never',
    'fails a finished run. Published as ctx.artifacts "plot:<path>" = {svg, png, pngText}.',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: plotFields,
  check: plotProblems,
  create(cfg, ctx) {
    const problems = plotProblems(cfg);
    if (problems.length) throw new ConfigError(`stage "plot": ${problems[0]}`, ['metric']);
    const metricPart = cfg.kind === 'gold_proxy_vs_kl' ? '' : `-${safeName(cfg.metric ?? 'true_reward_top1')}`;
    const file = cfg.path ?? path.join(ctx.outDir, 'plots', `${cfg.kind}${metricPart}`);
    const source = new ReportInput(cfg.records, ctx);
    return {
      process(b) {
        source.addBatch(b);
        return b;
      },
      async finish() {
        source.syncRun();
        const published = ctx.artifacts.get(ARTIFACT.checkpoints);
        const refs = [...(Array.isArray(published) ? (published as CheckpointRef[]) : []), ...cfg.checkpoints_under.flatMap((d) => findCheckpoints(d))];
        const offsets = cfg.kind === 'metric_vs_step' && refs.length > 0 ? continuationOffsets(refs) : undefined;
        const written = await writePlot(source.view(), cfg, file, ctx.log, offsets);
        if (!written) return;
        ctx.artifacts.set(plotArtifact(file), written);
        ctx.log.info(
          `plot (${cfg.kind}): ${[written.svg, written.png].filter(Boolean).join(', ')}${written.pngText === 'bitmap' ? ' (PNG text in the built-in bitmap font: no usable font found)' : ''}`,
        );
      },
    };
  },
});
