/**
 * A real run: train a tiny SASRec with a tensorboard sink, then read the run
 * record and the event files back, export the trained checkpoint to ONNX and
 * compare onnxruntime's scores with the checkpoint's, and recommend from it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runExport } from '../../pipelines/commands/export.js';
import { runRecommend } from '../../pipelines/commands/recommend.js';
import type { RunRecord } from '../../pipelines/run-record.js';
import { runPipeline } from '../../pipelines/runner.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { concatBatches, type ListColumn } from '../../stages/core/batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { loadPolicy } from '../../stages/train/load-policy.js';
import { simulateLog } from '../train/helpers.js';
import { leftPadded, longest } from '../export/fixtures.js';
import { readEvents } from './tfrecord-reader.js';

describe('train → tensorboard → run.json → export → recommend', () => {
  it('works on a trained checkpoint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-e2e-'));
    const log = simulateLog({ users: 30, length: 10, numItems: 21, seed: 4, holdOut: true });
    const examples = path.join(dir, 'examples.parquet');
    writeParquetFile(examples, [log.batch]);
    const out = path.join(dir, 'run');
    const p = resolvePipeline({
      name: 'e2e',
      seed: 6,
      stages: [
        { stage: 'read_parquet', with: { path: examples } },
        { stage: 'train_sasrec', id: 'bc', with: { max_len: 8, d: 8, blocks: 1, heads: 2, batch_size: 16, epochs: 2, log_every: 1, backend: 'cpu', objective: { name: 'bc' } } },
        { stage: 'tensorboard', with: { poll_seconds: 0 } },
      ],
    });
    const res = await runPipeline(p, { outDir: out, logger: memoryLogger(), progress: false });

    const record = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(record.backend).toMatch(/^cpu/);
    expect(record.pipeline.stages[1]!.with.epochs).toBe(2);

    // Every training record of method bc is in the event file, at its step under <split>/<metric>.
    const files = fs.readdirSync(path.join(out, 'tensorboard', 'bc')).filter((n) => n.startsWith('events.out.tfevents.'));
    expect(files).toHaveLength(1);
    const scalars = readEvents(path.join(out, 'tensorboard', 'bc', files[0]!)).flatMap((e) => e.values.map((v) => `${e.step} ${v.tag} ${Math.fround(v.value)}`));
    const expected = res.metrics.filter((m) => m.method === 'bc').map((m) => `${m.step} ${m.split ? `${m.split}/` : ''}${m.metric} ${Math.fround(m.value)}`);
    expect(expected.some((s) => / train\/loss /.test(s))).toBe(true);
    expect(scalars.sort()).toEqual(expected.sort());

    // Export the last checkpoint; onnxruntime matches the trained policy.
    const ck = res.artifacts.get('checkpoint') as string;
    const model = path.join(dir, 'model.onnx');
    runExport({ checkpoint: ck, output: model });
    const policy = await loadPolicy(ck);
    const contexts = log.batch.columns.context as ListColumn<Int32Array>;
    const want = await policy.scoreContexts(contexts);
    const rows = contexts.offsets.length - 1;
    const width = longest(contexts);
    const session = await ort.InferenceSession.create(model);
    const got = (await session.run({ history: new ort.Tensor('int64', leftPadded(contexts, width), [rows, width]) })).scores!.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
    expect(worst).toBeLessThan(1e-4);
    policy.dispose();

    // Recommend for the test rows: one list of 5 per test row.
    const testRows = Array.from(log.batch.columns.split as Int8Array).filter((s) => s === 2).length;
    const r = await runRecommend({ checkpoint: path.join(out, 'checkpoints', 'bc'), data: examples, output: path.join(dir, 'recs'), k: 5 });
    expect(r.rows).toBe(testRows);
    expect(concatBatches(await readParquetAll(path.join(dir, 'recs'))).numRows).toBe(5 * testRows);
  });
});
