/**
 * Checkpoint directories that pile up (issue 9): `step-N.old-*` and
 * `*.tmp-*` leftovers of interrupted writes were counted as checkpoints and
 * never removed; `epochs: 1e12` wrote thousands of directories. keep_last and
 * keep_best bound what is kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { findCheckpoints } from '../../stages/eval/find-checkpoints.js';
import { initBackend } from '../../stages/train/backend.js';
import { listCheckpoints, readCheckpointMeta, writeCheckpoint, type CheckpointInput } from '../../stages/train/checkpoint.js';
import { recoverInterruptedCheckpoints } from '../../stages/train/checkpoint-recovery.js';
import { stepsToPrune } from '../../stages/train/checkpoint-retention.js';
import { simulateLog } from '../train/helpers.js';
import { removeTmp, tmp } from './state-helpers.js';

afterAll(removeTmp);

let examples: string;
beforeAll(async () => {
  await initBackend('wasm');
  examples = path.join(tmp('ret-data'), 'a.parquet');
  writeParquetFile(examples, [simulateLog({ users: 30, length: 10, numItems: 20, seed: 5, holdOut: true }).batch]);
});

const model = { max_len: 10, d: 8, blocks: 1, heads: 2, dropout: 0.1, reward_hidden: 4, batch_size: 16, backend: 'wasm' };
const train = (out: string, opts: Record<string, unknown>) =>
  runPipeline(
    resolvePipeline({
      seed: 1,
      stages: [
        { stage: 'read_parquet', with: { path: examples } },
        { stage: 'train_sasrec', with: { ...model, ...opts } },
      ],
    }),
    {
      outDir: out,
      logger: memoryLogger(),
      writeFiles: false,
    },
  );

const meta: CheckpointInput = {
  kind: 'gaussian',
  method: 'bc',
  model: {},
  step: 2,
  epoch: 1,
  seed: 0,
  position: null,
  rng: { seed: 0, step: 2, epoch: 1, batch: 0 },
};
const ck = (dir: string, value: number) => writeCheckpoint(dir, { ...meta, step: value }, [{ name: 'w', shape: [2], data: Float32Array.from([value, value]) }]);
/** A process id that no running process has (checked in the first test), for leftovers of a killed writer. */
const DEAD = 4194303;

describe('keep_last and keep_best', () => {
  it('retention rules (pure): the N latest, the N best by validation score, the latest always, protected steps', () => {
    const c = [{ step: 1, score: 3 }, { step: 2, score: 1 }, { step: 3, score: 2 }, { step: 4, score: 5 }, { step: 5 }];
    expect(stepsToPrune(c, { keepLast: 0, keepBest: 0 })).toEqual([]);
    expect(stepsToPrune(c, { keepLast: 2, keepBest: 0 })).toEqual([1, 2, 3]);
    expect(stepsToPrune(c, { keepLast: 1, keepBest: 2 })).toEqual([1, 4]);
    expect(stepsToPrune(c, { keepLast: 0, keepBest: 1 })).toEqual([1, 3, 4]);
    expect(stepsToPrune(c, { keepLast: 1, keepBest: 0 }, new Set([1]))).toEqual([2, 3, 4]);
  });

  it('keep_last: 2 keeps the two latest checkpoints of a 5-epoch run and publishes only those', async () => {
    const out = tmp('keep-last');
    const res = await train(out, { epochs: 5, keep_last: 2 });
    expect(listCheckpoints(path.join(out, 'checkpoints', 'bc')).map((c) => c.step)).toEqual([8, 10]);
    expect((res.artifacts.get('checkpoints') as { step: number }[]).map((c) => c.step)).toEqual([8, 10]);
  });

  it('keep_best: 1 with keep_last: 1 keeps the latest and the one of lowest validation nll recorded in it', async () => {
    const out = tmp('keep-best');
    const res = await train(out, { epochs: 4, keep_last: 1, keep_best: 1, lr: 0.05 });
    const nll = res.metrics.filter((m) => m.split === 'valid' && m.metric === 'nll');
    expect(nll).toHaveLength(4);
    const best = nll.reduce((a, b) => (b.value < a.value ? b : a));
    const kept = listCheckpoints(path.join(out, 'checkpoints', 'bc'));
    expect(kept.map((c) => c.step)).toEqual([...new Set([best.step, 8])].sort((a, b) => a - b));
    expect(readCheckpointMeta(kept.find((c) => c.step === best.step)!.dir).validation).toEqual({ metric: 'valid_nll', value: best.value });
  });

  it('train_online keep_last: 1 keeps step 0 (π₀) and the latest update', async () => {
    const out = tmp('online-keep');
    await runPipeline(
      resolvePipeline({
        seed: 2,
        stages: [
          { stage: 'simulate_recsim', with: { num_users: 20, num_items: 15, dim: 4, topics: 2, interactions_per_user: 6 } },
          { stage: 'split_sequences', with: { max_len: 5, apply_threshold: false } },
          { stage: 'train_gaussian', with: { objective: { name: 'bc' }, epochs: 1, batch_size: 32, hidden: [6], backend: 'wasm' } },
          {
            stage: 'train_online',
            with: { algorithm: 'grpo', updates: 4, group_size: 4, contexts_per_update: 6, checkpoint_every: 1, keep_last: 1, backend: 'wasm' },
          },
        ],
      }),
      { outDir: out, logger: memoryLogger(), writeFiles: false },
    );
    expect(listCheckpoints(path.join(out, 'checkpoints', 'grpo')).map((c) => c.step)).toEqual([0, 4]);
  });

  it('epochs: 1e12 is refused before training, naming keep_last', async () => {
    const out = tmp('epochs');
    const err = await train(out, { epochs: 1e12 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /train_sasrec\[bc\]: epochs 1000000000000 would write 1000000000001 checkpoint directories \(more than 1000\); set keep_last/,
    );
    expect(fs.existsSync(path.join(out, 'checkpoints', 'bc'))).toBe(false);
  });
});

describe('leftovers of interrupted checkpoint writes', () => {
  it('are never listed or found as checkpoints', () => {
    expect(() => process.kill(DEAD, 0)).toThrow(/ESRCH/);
    const root = tmp('leftovers');
    ck(path.join(root, 'step-2'), 2);
    ck(path.join(root, `step-2.old-${DEAD}-1`), 1);
    ck(path.join(root, `step-4.tmp-${DEAD}-2`), 4);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2]);
    expect(findCheckpoints(root).map((c) => path.basename(c.dir))).toEqual(['step-2']);
  });

  it('a complete new write left under its temporary name is restored; the old copy is removed', () => {
    const root = tmp('restore');
    ck(path.join(root, `step-4.tmp-${DEAD}-9`), 4);
    ck(path.join(root, `step-4.old-${DEAD}-8`), 3);
    const r = recoverInterruptedCheckpoints(root);
    expect(r.restored).toEqual([path.join(root, 'step-4')]);
    expect(fs.readdirSync(root)).toEqual(['step-4']);
    expect(readCheckpointMeta(path.join(root, 'step-4')).step).toBe(4);
  });

  it('an incomplete temporary is removed and the old copy it was replacing is put back', () => {
    const root = tmp('put-back');
    const tmpDir = ck(path.join(root, `step-4.tmp-${DEAD}-9`), 4);
    fs.truncateSync(path.join(tmpDir, 'weights.bin'), 3);
    ck(path.join(root, `step-4.old-${DEAD}-8`), 3);
    recoverInterruptedCheckpoints(root);
    expect(fs.readdirSync(root)).toEqual(['step-4']);
    expect(readCheckpointMeta(path.join(root, 'step-4')).step).toBe(3);
  });

  it('a leftover of a live process is left alone; with a complete checkpoint in place, leftovers are removed', () => {
    const root = tmp('live');
    ck(path.join(root, 'step-2'), 2);
    ck(path.join(root, `step-2.old-${DEAD}-1`), 1);
    ck(path.join(root, `step-6.tmp-${process.ppid}-1`), 6);
    recoverInterruptedCheckpoints(root);
    expect(fs.readdirSync(root).sort()).toEqual(['step-2', `step-6.tmp-${process.ppid}-1`]);
  });

  it('a resumed training run cleans them', async () => {
    const out = tmp('resume-clean');
    await train(out, { epochs: 2, stop_after_steps: 2 });
    const root = path.join(out, 'checkpoints', 'bc');
    fs.cpSync(path.join(root, 'step-2'), path.join(root, `step-2.old-${DEAD}-5`), { recursive: true });
    fs.mkdirSync(path.join(root, `step-3.tmp-${DEAD}-6`));
    await train(out, { epochs: 2, resume: true });
    expect(fs.readdirSync(root).sort()).toEqual(['step-2', 'step-4']);
  });
});
