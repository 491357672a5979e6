/** The λ-sweep plot marks paper 000's minimum safe temperature (Eq. 15) as a vertical line at the right x. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricRecord } from '../../schemas/metric-record.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ConfigError, validateConfig } from '../../stages/core/config-schema.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import { minSafeLambdaLine } from '../../stages/sinks/plot/theory-line.js';
import { plotStage, writePlot, type PlotConfig } from '../../stages/sinks/plot-stage.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { tmpDir } from './helpers.js';
import { axisTicks, seriesPaths, tickMap } from './svg-parse.js';

// σ = 0.5, |A| = 50, δ = 0.1: ε = 0.5·√(2 ln 1000); τ/R_max = e − 1 makes log(1 + τ/R_max) = 1, so λ_min = 2ε = √(2 ln 1000).
const THEORY = { sigma: 0.5, actions: 50, delta: 0.1, tau: Math.E - 1, rmax: 1 };
const LAMBDA_MIN = Math.sqrt(2 * Math.log(1000));

describe('min_safe_lambda', () => {
  it('λ_min = 2ε/log(1 + τ/R_max), by hand', () => {
    const r = minSafeLambdaLine(THEORY);
    expect(r.epsilon).toBeCloseTo(0.5 * Math.sqrt(2 * Math.log(1000)), 12);
    expect(r.lambda).toBeCloseTo(LAMBDA_MIN, 12);
    expect(r.line.label).toBe('theory: min safe λ = 3.72');
  });

  it('is drawn as a vertical dotted line at λ_min on the log axis, beyond the swept values (the axis widens to hold it)', async () => {
    const t = new MetricTable();
    t.addRecords(
      [0.25, 0.5, 1, 2].map((l, i) => metricRecord({ run: 'r', method: `exp_rsft@lambda=${l}`, split: 'test', metric: 'ndcg@10', value: 0.1 + 0.01 * i })),
    );
    const cfg = validateConfig<PlotConfig>('plot', plotStage.fields, {
      kind: 'metric_vs_param',
      metric: 'ndcg@10',
      x: 'lambda',
      log_x: true,
      split: 'test',
      min_safe_lambda: THEORY,
    });
    const file = path.join(tmpDir('min-safe-lambda'), 'sweep.svg');
    const log = memoryLogger();
    await writePlot(t, cfg, file, log);
    const svg = fs.readFileSync(file, 'utf8');
    const m = /<g class="vreference" data-series="min_safe_lambda" data-value="([^"]+)"><line x1="([^"]+)" y1="[^"]+" x2="([^"]+)"[^>]*stroke-dasharray/.exec(
      svg,
    );
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(LAMBDA_MIN, 12);
    expect(m![2]).toBe(m![3]);
    const toPixel = tickMap(axisTicks(svg).x, Math.log10);
    expect(Number(m![2])).toBeCloseTo(toPixel(LAMBDA_MIN), 0);
    const rightmost = Math.max(
      ...seriesPaths(svg)
        .get('exp_rsft')!
        .map((p) => p[0]),
    );
    expect(Number(m![2])).toBeGreaterThan(rightmost);
    expect(svg).toContain('theory: min safe λ = 3.72');
    expect(log.lines.join('\n')).toContain("theory's minimum safe λ = 3.717 (ε = 1.858; paper 000 Eq. 15)");
  });

  it('only for metric_vs_param, with δ < 1 (one line at validation)', () => {
    const at = 'pipeline: stages[1] (stage "plot"): ';
    const pipe = (w: Record<string, unknown>) => () =>
      resolvePipeline({
        stages: [
          { stage: 'read_metrics', with: { path: 'm.jsonl' } },
          { stage: 'plot', with: w },
        ],
      });
    expect(pipe({ kind: 'metric_vs_step', metric: 'nll', min_safe_lambda: THEORY })).toThrow(ConfigError);
    expect(pipe({ kind: 'metric_vs_step', metric: 'nll', min_safe_lambda: THEORY })).toThrow(
      `${at}min_safe_lambda applies to kind metric_vs_param, not metric_vs_step`,
    );
    expect(pipe({ kind: 'metric_vs_param', metric: 'mrr', min_safe_lambda: { ...THEORY, delta: 1 } })).toThrow(
      `${at}min_safe_lambda.delta must be below 1 (got 1)`,
    );
    expect(pipe({ kind: 'metric_vs_param', metric: 'mrr', min_safe_lambda: { sigma: 1 } })).toThrow(/field "min_safe_lambda.actions" is required/);
  });
});
