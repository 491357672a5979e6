import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import _ from 'highland';
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import { batchToMetrics } from '../../stages/core/metric-batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { defineStage } from '../../stages/core/stage.js';
import { parseMetricLine } from '../../stages/sinks/metric-jsonl.js';
import { MetricColumnsBuilder } from '../../stages/sinks/metric-columns.js';

describe("the runner's metrics.jsonl", () => {
  it('keeps non-finite values, signs included, readable by the metric-file reader', async () => {
    const emitter = defineStage({
      name: 'emit_test',
      role: 'source',
      summary: 'test',
      fields: {},
      create: (_c, ctx) => ({
        source: async function* () {
          ctx.emitMetric({ method: 'm', metric: 'up', value: Number.POSITIVE_INFINITY });
          ctx.emitMetric({ method: 'm', metric: 'down', value: Number.NEGATIVE_INFINITY });
          ctx.emitMetric({ method: 'm', metric: 'nan', value: Number.NaN, count: 3 });
          ctx.emitMetric({ method: 'm', metric: 'plain', value: 0.25, step: 4 });
        },
      }),
    });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-metrics-'));
    await runPipeline({ name: 'r', outDir: out, seed: 0, stages: [{ index: 0, id: 'e', def: emitter, config: {} }] }, { logger: memoryLogger() });
    const builder = new MetricColumnsBuilder();
    fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .forEach((line, i) => parseMetricLine(line, 'metrics.jsonl', i + 1, builder));
    const recs = batchToMetrics(builder.take());
    expect(recs.map((r) => [r.metric, r.value, r.count, r.step, r.run])).toEqual([
      ['up', Number.POSITIVE_INFINITY, 1, 0, 'r'],
      ['down', Number.NEGATIVE_INFINITY, 1, 0, 'r'],
      ['nan', Number.NaN, 3, 0, 'r'],
      ['plain', 0.25, 1, 4, 'r'],
    ]);
  });
});
