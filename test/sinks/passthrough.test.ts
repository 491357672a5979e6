import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { metricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { sinksStages } from '../../stages/sinks/index.js';
import { runWith, testSource, tmpDir } from './helpers.js';
import { startFakeMlflow, type FakeMlflow } from '../tracking/mlflow-fake.js';

describe('every sink passes its input on unchanged', () => {
  let mlflowServer: FakeMlflow;
  beforeAll(async () => void (mlflowServer = await startFakeMlflow()));
  afterAll(async () => mlflowServer.close());
  const metrics = metricsToBatch([1, 2, 3].map((step) => metricRecord({ run: 'r', method: 'bc', step, split: 'test', metric: 'hr@10', value: step / 10 })));
  const other: Batch = {
    table: 'examples',
    numRows: 2,
    columns: { action: Int32Array.of(4, 5), context: { kind: 'list', offsets: Int32Array.of(0, 1, 3), values: Int32Array.of(1, 2, 3) } },
  };
  const options = (name: string, dir: string): Record<string, unknown> =>
    ({
      metrics_jsonl: { path: path.join(dir, 'm.jsonl') },
      metrics_parquet: { path: path.join(dir, 'm.parquet') },
      console_table: { live: 'never', stream: 'stdout' },
      comparison_table: { path: path.join(dir, 'c.md') },
      plot: { metric: 'hr@10', path: path.join(dir, 'p.svg') },
      report_html: { path: path.join(dir, 'r.html') },
      tensorboard: { path: path.join(dir, 'tb') },
      mlflow: { tracking_uri: mlflowServer.url },
    })[name] ?? {};

  const sinks = sinksStages.filter((s) => s.role === 'sink');
  it('covers the eight sinks', () =>
    expect(sinks.map((s) => s.name).sort()).toEqual([
      'comparison_table',
      'console_table',
      'metrics_jsonl',
      'metrics_parquet',
      'mlflow',
      'plot',
      'report_html',
      'tensorboard',
    ]));

  for (const def of sinks) {
    it(def.name, async () => {
      const dir = tmpDir(`pass-${def.name}`);
      const input = [metrics, other, metrics];
      const snapshot = structuredClone(input);
      const h = await runWith(testSource(input), [[def, options(def.name, dir)]], dir);
      expect(h.out).toHaveLength(3);
      h.out.forEach((b, i) => expect(b).toBe(input[i])); // the same objects …
      expect(h.out).toEqual(snapshot); // … not modified
    });
  }

  it('all of them chained, in one pipeline', async () => {
    const dir = tmpDir('pass-chain');
    const input = [metrics, other];
    const h = await runWith(
      testSource(input),
      sinks.map((d) => [d, options(d.name, dir)] as [typeof d, Record<string, unknown>]),
      dir,
    );
    h.out.forEach((b, i) => expect(b).toBe(input[i]));
    // comparison_table comes after console_table: the last writer owns report:table
    expect(String(h.result.artifacts.get('report:table'))).toContain('| method | n | hr@10 |');
  });
});
