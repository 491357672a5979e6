import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { concatBatches } from '../../stages/core/batch.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { readCheckpointMeta } from '../../stages/train/checkpoint.js';
import { loadPolicy } from '../../stages/train/load-policy.js';
import { initBackend } from '../../stages/train/backend.js';
import { simulateLog } from './helpers.js';

let dir: string;
let examplesFile: string;
const log = simulateLog({ users: 40, length: 12, numItems: 25, seed: 11, holdOut: true });

beforeAll(async () => {
  await initBackend('wasm');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-train-stage-'));
  examplesFile = path.join(dir, 'examples.parquet');
  writeParquetFile(examplesFile, [log.batch]);
});

const model = { max_len: 12, d: 16, blocks: 1, heads: 2, dropout: 0.1, reward_hidden: 8, batch_size: 16, log_every: 2 };

describe('train_sasrec in a pipeline', () => {
  it('trains BC, then Exp-RSFT from the BC checkpoint; writes checkpoints and training records; passes the input on', async () => {
    const out = path.join(dir, 'run1');
    const p = resolvePipeline({
      name: 'bc-then-exp',
      seed: 3,
      stages: [
        { stage: 'read_parquet', with: { path: examplesFile } },
        { stage: 'reward_stats', with: { barrier: true, batch_metrics: false } },
        { stage: 'train_sasrec', id: 'bc', with: { ...model, objective: { name: 'bc' }, epochs: 2 } },
        { stage: 'train_sasrec', id: 'exp', with: { ...model, objective: { name: 'exp_rsft', lambda: 1 }, init: 'previous', epochs: 1 } },
      ],
    });
    const logger = memoryLogger();
    const res = await runPipeline(p, { outDir: out, logger });
    // checkpoints: BC after epochs 1 and 2, Exp-RSFT after its epoch
    const cks = res.artifacts.get('checkpoints') as { method: string; dir: string; step: number; epoch: number }[];
    expect(cks.map((c) => [c.method, c.epoch])).toEqual([
      ['bc', 1],
      ['bc', 2],
      ['exp_rsft', 1],
    ]);
    const expMeta = readCheckpointMeta(cks[2]!.dir);
    expect(expMeta.trainer?.init).toBe(cks[1]!.dir);
    expect(expMeta.step).toBe(Math.ceil(40 / 16));
    expect(res.artifacts.get('checkpoint')).toBe(cks[2]!.dir);
    expect(fs.existsSync(path.join(out, 'checkpoints', 'bc', `step-${cks[1]!.step}`, 'weights.bin'))).toBe(true);
    // training records in the metric stream and metrics.jsonl
    const train = res.metrics.filter((m) => m.split === 'train');
    for (const method of ['bc', 'exp_rsft'])
      for (const metric of ['loss', 'w_mean', 'ess', 'grad_norm', 'examples_per_s'])
        expect(
          train.some((m) => m.method === method && m.metric === metric),
          `${method} ${metric}`,
        ).toBe(true);
    // Exp-RSFT's weights are exp((r − max)/λ) ≤ 1, BC's are 1
    expect(train.filter((m) => m.method === 'exp_rsft' && m.metric === 'w_max').every((m) => m.value <= 1)).toBe(true);
    expect(train.filter((m) => m.method === 'bc' && m.metric === 'w_mean').every((m) => m.value === 1)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')).toContain('"split":"train"');
    // a validation loss per epoch, from the 40 valid examples
    const valid = res.metrics.filter((m) => m.split === 'valid' && m.metric === 'nll');
    expect(valid.map((m) => [m.method, m.epoch, m.count])).toEqual([
      ['bc', 1, 40],
      ['bc', 2, 40],
      ['exp_rsft', 1, 40],
    ]);
    expect(valid.every((m) => m.value > 0 && m.value < 10)).toBe(true);
    // the input reached the end of the chain unchanged
    const last = res.stages.at(-1)!;
    expect(last.rowsOut).toBe(log.batch.numRows);
    expect(logger.lines.some((l) => l.startsWith('backend: wasm'))).toBe(true);
    // the checkpoint loads for evaluation
    const pol = await loadPolicy(cks[2]!.dir);
    expect(pol.method).toBe('exp_rsft');
    const scores = await pol.scoreContexts({ kind: 'list', offsets: Int32Array.from([0, 2, 2]), values: Int32Array.from([3, 4]) });
    expect(scores.length).toBe(2 * pol.numItems);
    pol.dispose();
  });

  it('resume: true continues an interrupted run (stop_after_steps) to the bytes of an uninterrupted one', async () => {
    const stages = (extra: Record<string, unknown>) => [
      { stage: 'read_parquet', with: { path: examplesFile } },
      { stage: 'train_sasrec', with: { ...model, objective: { name: 'drpo' }, epochs: 2, checkpoint_every: 0, ...extra } },
    ];
    const outA = path.join(dir, 'resume-a');
    const outB = path.join(dir, 'resume-b');
    await runPipeline(resolvePipeline({ seed: 9, stages: stages({}) }), { outDir: outA, logger: memoryLogger(), writeFiles: false });
    const r1 = await runPipeline(resolvePipeline({ seed: 9, stages: stages({ stop_after_steps: 4 }) }), {
      outDir: outB,
      logger: memoryLogger(),
      writeFiles: false,
    });
    expect((r1.artifacts.get('checkpoints') as { step: number }[]).map((c) => c.step)).toEqual([4]);
    const logger = memoryLogger();
    await runPipeline(resolvePipeline({ seed: 9, stages: stages({ resume: true }) }), { outDir: outB, logger, writeFiles: false });
    expect(logger.lines.some((l) => /resuming from sasrec "drpo" step 4/.test(l))).toBe(true);
    const final = (out: string) => fs.readFileSync(path.join(out, 'checkpoints', 'drpo', 'step-6', 'weights.bin'));
    expect(final(outB).equals(final(outA))).toBe(true);
    expect(readCheckpointMeta(path.join(outB, 'checkpoints', 'drpo', 'step-6')).objectiveState).toEqual(
      readCheckpointMeta(path.join(outA, 'checkpoints', 'drpo', 'step-6')).objectiveState,
    );
  });

  it('keep_input: disk spills the input to Parquet and re-emits it unchanged', async () => {
    const out = path.join(dir, 'spill');
    const copy = path.join(dir, 'spill-copy');
    const res = await runPipeline(
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: examplesFile } },
          { stage: 'train_sasrec', with: { ...model, epochs: 1, keep_input: 'disk', checkpoint_every: 0 } },
          { stage: 'write_parquet', with: { path: copy } },
        ],
      }),
      { outDir: out, logger: memoryLogger(), writeFiles: false },
    );
    expect(res.stages[1]!.rowsOut).toBe(log.batch.numRows);
    const back = concatBatches(await readParquetAll(copy, { table: 'examples' }));
    const orig = log.batch;
    for (const name of ['user_id', 'action', 'reward', 'split'])
      expect(Array.from(back.columns[name] as ArrayLike<number>), name).toEqual(Array.from(orig.columns[name] as ArrayLike<number>));
    const bc = back.columns.context as { offsets: Int32Array; values: Int32Array };
    const oc = orig.columns.context as { offsets: Int32Array; values: Int32Array };
    expect(Array.from(bc.values)).toEqual(Array.from(oc.values));
    expect(Array.from(bc.offsets)).toEqual(Array.from(oc.offsets));
    expect(fs.existsSync(path.join(out, '.spill'))).toBe(true);
    expect(fs.readdirSync(path.join(out, '.spill'))).toEqual([]);
  });

  it('rejects a bad objective option at validation, naming the stage and field', () => {
    expect(() =>
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: examplesFile } },
          { stage: 'train_sasrec', with: { objective: { name: 'exp_rsft', lamda: 1 } } },
        ],
      }),
    ).toThrow(/train_sasrec.*objective.*lamda/);
  });
});
