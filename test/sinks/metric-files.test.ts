import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { batchToMetrics, metricsToBatch } from '../../stages/core/metric-batch.js';
import { DataError } from '../../stages/core/errors.js';
import { metricsJsonlStage } from '../../stages/sinks/metrics-jsonl-stage.js';
import { metricsParquetStage } from '../../stages/sinks/metrics-parquet-stage.js';
import { readMetricsStage } from '../../stages/sinks/read-metrics-stage.js';
import { readMetricFile } from '../../stages/sinks/metric-files.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { runWith, testSource, tmpDir } from './helpers.js';

const records: MetricRecord[] = [
  metricRecord({ run: 'r1', method: 'bc', seed: 0, step: 100, epoch: 1, split: 'test', metric: 'ndcg@10', value: 0.1304, count: 6040 }),
  metricRecord({ run: 'r1', method: 'exp_rsft@lambda=0.5', seed: 2, step: 200, epoch: 2, split: 'test', metric: 'hr@10', value: 0.25, count: 6040 }),
  metricRecord({ run: 'r1', method: 'drpo', seed: -1, step: 0, epoch: 0, split: 'train', metric: 'loss', value: Number.NaN, count: 0 }),
  metricRecord({ run: 'r1', method: 'drpo', seed: 1, step: 3, epoch: 0, split: 'batch', metric: 'w_max', value: Number.POSITIVE_INFINITY, count: 1 }),
  metricRecord({
    run: 'r1',
    method: 'λ-sweep "quoted"',
    seed: 1,
    step: 3,
    epoch: 0,
    split: 'batch',
    metric: 'w_min',
    value: Number.NEGATIVE_INFINITY,
    count: 1,
  }),
  metricRecord({ run: 'r2', method: 'bc', seed: 7, step: 2147483647, epoch: 9, split: 'valid', metric: 'mrr', value: 1e-300, count: 12.5 }),
];

async function readAll(p: string): Promise<MetricRecord[]> {
  const out: MetricRecord[] = [];
  for await (const b of readMetricFile(p)) out.push(...batchToMetrics(b));
  return out;
}

describe('metrics_jsonl and read_metrics', () => {
  it('round-trips records through a JSONL file, non-finite values included', async () => {
    const dir = tmpDir('jsonl');
    const file = path.join(dir, 'sub', 'm.jsonl');
    await runWith(testSource([metricsToBatch(records.slice(0, 3)), metricsToBatch(records.slice(3))]), [
      [metricsJsonlStage, { path: file, records: 'stream' }],
    ]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(records.length);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['m.jsonl']); // no temporary file left
    const back = await readAll(file);
    expect(back).toEqual(records);
    // and through the read_metrics source stage
    const h = await runWith([readMetricsStage, { path: dir }], []);
    expect(h.out.flatMap(batchToMetrics)).toEqual(records);
  });

  it('appends in append mode and replaces in overwrite mode', async () => {
    const file = path.join(tmpDir('append'), 'm.jsonl');
    const src = testSource([metricsToBatch(records.slice(0, 2))]);
    await runWith(src, [[metricsJsonlStage, { path: file, mode: 'append', records: 'stream' }]]);
    await runWith(src, [[metricsJsonlStage, { path: file, mode: 'append', records: 'stream' }]]);
    expect(await readAll(file)).toEqual([...records.slice(0, 2), ...records.slice(0, 2)]);
    await runWith(src, [[metricsJsonlStage, { path: file, records: 'stream' }]]);
    expect(await readAll(file)).toEqual(records.slice(0, 2));
  });

  it('adds run records not already in the stream, once (records: both)', async () => {
    const file = path.join(tmpDir('both'), 'm.jsonl');
    const emitted = [records[0]!, records[1]!, metricRecord({ run: 'sinks-test', method: 'bc', split: 'train', metric: 'loss', value: 2.5, step: 9 })];
    await runWith(testSource([metricsToBatch(records.slice(0, 2))], emitted), [[metricsJsonlStage, { path: file }]]);
    const back = await readAll(file);
    expect(back).toHaveLength(3);
    expect(back.slice(0, 2)).toEqual(records.slice(0, 2));
    expect(back[2]).toMatchObject({ metric: 'loss', value: 2.5, step: 9, run: 'sinks-test' });
    // records: run writes only the emitted ones
    await runWith(testSource([metricsToBatch(records.slice(2, 4))], emitted), [[metricsJsonlStage, { path: file, records: 'run' }]]);
    expect((await readAll(file)).map((r) => r.metric)).toEqual(['ndcg@10', 'hr@10', 'loss']);
  });

  it('names file, line and field of a malformed line', async () => {
    const file = path.join(tmpDir('bad'), 'bad.jsonl');
    fs.writeFileSync(file, ['{"metric":"a","value":1}', '', '{"metric":"b","value":1,"seed":1.5}'].join('\n'));
    await expect(readAll(file)).rejects.toThrow(DataError);
    await expect(readAll(file)).rejects.toThrow(`${file}:3: field "seed": must be an integer (value: "1.5")`);
    fs.writeFileSync(file, '{"metric":"a"}\n');
    await expect(readAll(file)).rejects.toThrow(`${file}:1: field "value": missing (required)`);
    fs.writeFileSync(file, '{"metric":"a","value":1}\n{"metric": oops}\n');
    await expect(readAll(file)).rejects.toThrow(/bad\.jsonl:2: field "\(line\)": not valid JSON/);
    fs.writeFileSync(file, '{"metric":"a","value":"high"}\n');
    await expect(readAll(file)).rejects.toThrow(/field "value": must be a number/);
  });

  it('fills absent fields with the record defaults', async () => {
    const file = path.join(tmpDir('defaults'), 'm.jsonl');
    fs.writeFileSync(file, '{"metric":"reward","value":0.5}\n{"metric":"reward","value":null,"count":3}\n');
    const back = await readAll(file);
    expect(back[0]).toEqual(metricRecord({ metric: 'reward', value: 0.5 }));
    expect(back[1]!.value).toBeNaN();
    expect(back[1]!.count).toBe(3);
  });
});

describe('metrics_parquet', () => {
  it('writes the metrics schema and round-trips through read_metrics', async () => {
    const dir = tmpDir('parquet');
    const file = path.join(dir, 'm.parquet');
    // a batch with non-canonical column types (float seeds, int32 counts) is coerced
    const odd = metricsToBatch(records.slice(0, 2));
    odd.columns.seed = Float64Array.from([0, 2]);
    odd.columns.count = Int32Array.from([6040, 6040]);
    await runWith(testSource([odd, metricsToBatch(records.slice(2))]), [[metricsParquetStage, { path: file, records: 'stream' }]]);
    const raw = await readParquetAll(file);
    expect(raw[0]!.columns.seed).toBeInstanceOf(Int32Array);
    expect(raw[0]!.columns.value).toBeInstanceOf(Float64Array);
    expect(Object.keys(raw[0]!.columns)).toEqual(['run', 'method', 'seed', 'step', 'epoch', 'split', 'metric', 'value', 'count']);
    expect(await readAll(file)).toEqual(records);
    const h = await runWith([readMetricsStage, { path: dir }], []);
    expect(h.out.flatMap(batchToMetrics)).toEqual(records);
  });

  it('is readable by DuckDB with the declared column types', async () => {
    const file = path.join(tmpDir('duck'), 'm.parquet');
    await runWith(testSource([metricsToBatch(records)]), [[metricsParquetStage, { path: file, records: 'stream' }]]);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const types = await con.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
    expect(Object.fromEntries(types.getRows().map((r) => [String(r[0]), String(r[1])]))).toEqual({
      run: 'VARCHAR',
      method: 'VARCHAR',
      seed: 'INTEGER',
      step: 'INTEGER',
      epoch: 'INTEGER',
      split: 'VARCHAR',
      metric: 'VARCHAR',
      value: 'DOUBLE',
      count: 'DOUBLE',
    });
    const sum = await con.runAndReadAll(`SELECT sum(count), max(step) FROM read_parquet('${file}')`);
    const [total, maxStep] = sum.getRows()[0]!;
    expect(Number(total)).toBe(records.reduce((s, r) => s + r.count, 0));
    expect(Number(maxStep)).toBe(2147483647);
    con.closeSync?.();
  });

  it('writes an empty file with the schema when there are no records, and run records by default', async () => {
    const dir = tmpDir('empty');
    await runWith(testSource([]), [[metricsParquetStage, { path: path.join(dir, 'empty.parquet') }]]);
    expect(await readAll(path.join(dir, 'empty.parquet'))).toEqual([]);
    const h = await runWith(testSource([], [{ method: 'bc', metric: 'loss', value: 1.25, split: 'train' }]), [[metricsParquetStage, {}]], dir);
    expect(await readAll(path.join(dir, 'metrics.parquet'))).toEqual([
      metricRecord({ run: 'sinks-test', method: 'bc', metric: 'loss', value: 1.25, split: 'train' }),
    ]);
    expect(h.result.artifacts.get(`metrics_parquet:${path.join(dir, 'metrics.parquet')}`)).toMatchObject({ records: 1 });
  });
});

describe('read_metrics', () => {
  it('reads a directory of mixed files in name order and skips non-metric Parquet files', async () => {
    const dir = tmpDir('mixed');
    await runWith(testSource([metricsToBatch(records.slice(0, 2))]), [[metricsJsonlStage, { path: path.join(dir, 'a.jsonl'), records: 'stream' }]]);
    await runWith(testSource([metricsToBatch(records.slice(2))]), [[metricsParquetStage, { path: path.join(dir, 'b', 'm.parquet'), records: 'stream' }]]);
    const { writeParquetFile } = await import('../../stages/io/parquet.js');
    writeParquetFile(path.join(dir, 'c.parquet'), [{ table: 'interactions', numRows: 1, columns: { user_id: Int32Array.of(1), item_id: Int32Array.of(2) } }]);
    fs.writeFileSync(path.join(dir, 'z.jsonl.tmp-123'), 'garbage');
    const h = await runWith([readMetricsStage, { path: dir }], []);
    expect(h.out.flatMap(batchToMetrics)).toEqual(records);
    expect(h.log.some((l) => l.includes('skipping') && l.includes('c.parquet'))).toBe(true);
  });

  it('fails clearly on a missing path or an empty directory', async () => {
    const dir = tmpDir('missing');
    const { validateConfig } = await import('../../stages/core/config-schema.js');
    const { readMetricsStage: def } = await import('../../stages/sinks/read-metrics-stage.js');
    const { runPipeline } = await import('../../pipelines/runner.js');
    const { memoryLogger } = await import('../../stages/core/logger.js');
    const run = (cfg: Record<string, unknown>) =>
      runPipeline(
        { name: 't', outDir: dir, seed: 0, stages: [{ index: 0, id: 'read_metrics', def, config: validateConfig('s', def.fields, cfg) }] },
        { logger: memoryLogger(), writeFiles: false, progress: false },
      );
    await expect(run({ path: path.join(dir, 'nope.jsonl') })).rejects.toThrow(/no such file or directory: .*nope\.jsonl/);
    await expect(run({ path: dir })).rejects.toThrow(/no metric files/);
    await expect(run({})).rejects.toThrow(/give `path` or `paths`/);
  });
});
