import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import _ from 'highland';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/runner.js';
import type { ResolvedPipeline } from '../../pipelines/spec.js';
import type { Batch } from '../../stages/core/batch.js';
import { ConfigError, validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { defineStage, type StageDefinition } from '../../stages/core/stage.js';
import { mlflowStage } from '../../stages/sinks/mlflow-stage.js';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { startFakeMlflow, type FakeMlflow } from './mlflow-fake.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-mlflow-'));

/** A source emitting `emitted` through ctx.emitMetric, then `batches`, then failing if `fail`. */
function source(batches: Batch[], emitted: Partial<MetricRecord>[] = [], fail = false): StageDefinition<{ knob: number }> {
  return defineStage({
    name: 'test_source',
    role: 'source',
    summary: 'test',
    fields: { knob: { type: 'integer', default: 3, doc: 'a param to log' } },
    create: (_cfg, ctx) => ({
      source: async function* () {
        for (const r of emitted) ctx.emitMetric(metricRecord({ metric: 'm', value: 0, ...r }));
        yield* batches;
        if (fail) throw new Error('upstream broke');
      },
    }),
  });
}

async function run(src: StageDefinition<{ knob: number }>, mlflow: Record<string, unknown>, outDir = tmp()) {
  const p: ResolvedPipeline = {
    name: 'mlf',
    outDir,
    seed: 2,
    stages: [
      { index: 0, id: 'src', def: src, config: validateConfig('stage 0', src.fields, { knob: 4 }) },
      { index: 1, id: 'mlflow', def: mlflowStage, config: validateConfig('stage 1', mlflowStage.fields, mlflow) },
    ],
  };
  const logger = memoryLogger();
  const result = await runPipeline(p, { outDir, logger, progress: false });
  return { result, log: logger.lines };
}

let fake: FakeMlflow;
beforeEach(async () => {
  fake = await startFakeMlflow();
});
afterEach(async () => {
  await fake.close();
});

describe('mlflow sink against a local fake server', () => {
  it('creates the experiment and run, logs params and every record in limited batches, retries a 503, finishes the run', async () => {
    const stream: MetricRecord[] = [];
    for (let i = 0; i < 2500; i++) stream.push(metricRecord({ run: 'mlf', method: 'bc', seed: 2, step: i, split: 'valid', metric: 'ndcg@10', value: i / 4 }));
    const emitted: Partial<MetricRecord>[] = [
      { method: 'drpo', seed: 2, step: 7, split: 'train', metric: 'loss', value: Number.NaN },
      { method: 'drpo', seed: 5, step: 7, split: 'train', metric: 'loss', value: 1.5 },
    ];
    fake.failures.set('runs/log-batch', 1); // the first log-batch call gets a 503
    const extra = Object.fromEntries(Array.from({ length: 150 }, (_v, i) => [`extra.p${i}`, `v${i}`]));
    const { log } = await run(source([metricsToBatch(stream.slice(0, 1200)), metricsToBatch(stream.slice(1200))], emitted), {
      tracking_uri: fake.url,
      experiment: 'exp-a',
      run_name: 'first',
      params: extra,
    });
    expect(fake.violations).toEqual([]);
    expect(fake.experiments.get('exp-a')).toBeDefined();
    expect(fake.runs.size).toBe(1);
    const r = [...fake.runs.values()][0]!;
    expect(r.run_name).toBe('first');
    expect(r.experiment_id).toBe(fake.experiments.get('exp-a'));
    expect(r.status).toBe('FINISHED');
    expect(r.end_time).toBeGreaterThanOrEqual(r.start_time);
    // Params: the pipeline (from run.json) and the extra ones, in calls of ≤ 100.
    expect(r.params.get('name')).toBe('mlf');
    expect(r.params.get('seed')).toBe('2');
    expect(r.params.get('src.knob')).toBe('4');
    expect(r.params.get('mlflow.experiment')).toBe('exp-a');
    expect(r.params.get('extra.p149')).toBe('v149');
    expect(r.tags.get('recpost.version')).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
    const batches = fake.calls.filter((c) => c.path.endsWith('runs/log-batch') && c.status === 200);
    expect(Math.max(...batches.map((c) => c.params))).toBeLessThanOrEqual(100);
    expect(batches.filter((c) => c.params > 0).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...batches.map((c) => c.metrics))).toBeLessThanOrEqual(1000);
    expect(fake.calls.filter((c) => c.status === 503)).toHaveLength(1);
    // Every record once, key <method>/<split>/<metric> with @ made legal, the seed suffix when it differs.
    expect(r.metrics).toHaveLength(2502);
    const bc = r.metrics.filter((m) => m.key === 'bc/valid/ndcg_at_10');
    expect(bc.map((m) => [m.step, m.value])).toEqual(stream.map((s) => [s.step, s.value]));
    expect(r.metrics.find((m) => m.key === 'drpo/train/loss')!.value).toBe('NaN');
    expect(r.metrics.find((m) => m.key === 'drpo-seed5/train/loss')!.value).toBe(1.5);
    expect(log.some((l) => l.includes('mlflow: 2502 metric(s)'))).toBe(true);
  });

  it('reuses an existing experiment', async () => {
    fake.experiments.set('mlf', '42');
    await run(source([metricsToBatch([metricRecord({ method: 'm', seed: 2, metric: 'x', value: 1 })])]), { tracking_uri: fake.url });
    expect(fake.calls.some((c) => c.path.endsWith('experiments/create'))).toBe(false);
    const r = [...fake.runs.values()][0]!;
    expect(r.experiment_id).toBe('42');
    expect(r.run_name).toBe('mlf');
    expect(r.status).toBe('FINISHED');
  });

  it('marks the run FAILED when the pipeline fails', async () => {
    const b = metricsToBatch([metricRecord({ method: 'm', seed: 2, metric: 'x', value: 1 })]);
    await expect(run(source([b], [], true), { tracking_uri: fake.url })).rejects.toThrow('upstream broke');
    // The update is sent after the failure: wait for it.
    for (let i = 0; i < 100 && [...fake.runs.values()][0]?.status !== 'FAILED'; i++) await new Promise((r) => setTimeout(r, 20));
    expect([...fake.runs.values()][0]!.status).toBe('FAILED');
    expect(fake.violations).toEqual([]);
  });

  it("fails the run with MLflow's message on a 4xx answer, and marks the MLflow run FAILED", async () => {
    fake.reject = 'm/x';
    const err = await run(source([metricsToBatch([metricRecord({ method: 'm', seed: 2, metric: 'x', value: 1 })])]), { tracking_uri: fake.url }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'stage "mlflow" (stages[1]): mlflow: POST runs/log-batch was refused (HTTP 400: INVALID_PARAMETER_VALUE: metric m/x is not allowed here)',
    );
    expect([...fake.runs.values()][0]!.status).toBe('FAILED');
  });

  it('gives up on an unreachable server after the retries, and needs a tracking URI', async () => {
    const closed = await startFakeMlflow();
    const url = closed.url;
    await closed.close();
    const err = await run(source([]), { tracking_uri: url, retries: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^stage "mlflow" \\(stages\\[1\\]\\): mlflow: GET ${url}/api/2\\.0/mlflow/experiments/get-by-name\\?experiment_name=mlf failed after 2 tries \\(.*ECONNREFUSED`,
      ),
    );
    const saved = process.env.MLFLOW_TRACKING_URI;
    delete process.env.MLFLOW_TRACKING_URI;
    try {
      await expect(run(source([]), {})).rejects.toThrow(
        'mlflow: no tracking server: set the option tracking_uri or the environment variable MLFLOW_TRACKING_URI',
      );
    } finally {
      if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
    }
  });
});
