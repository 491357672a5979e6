/**
 * Resume refuses a changed configuration and names every differing field
 * (issue 9: a changed objective crashed with "TypeError … reading 'P'", a
 * changed d was silently ignored, a changed lr / batch size / λ / seed
 * silently mixed two runs). Options that only say how long or how often may
 * change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { initBackend } from '../../stages/train/backend.js';
import { readCheckpointMeta } from '../../stages/train/checkpoint.js';
import { checkResumeConfig, trainingConfigDiff, trainingConfigOf, OFFLINE_RESUME_MAY_CHANGE } from '../../stages/train/resume-check.js';
import { simulateLog } from '../train/helpers.js';
import { removeTmp, tmp } from './state-helpers.js';

afterAll(removeTmp);

let examples: string;
let otherExamples: string;
beforeAll(async () => {
  await initBackend('wasm');
  const d = tmp('resume-data');
  examples = path.join(d, 'a.parquet');
  otherExamples = path.join(d, 'b.parquet');
  writeParquetFile(examples, [simulateLog({ users: 30, length: 10, numItems: 20, seed: 5 }).batch]);
  writeParquetFile(otherExamples, [simulateLog({ users: 30, length: 10, numItems: 20, seed: 6 }).batch]);
});

const base = {
  max_len: 10,
  d: 8,
  blocks: 1,
  heads: 2,
  dropout: 0.1,
  reward_hidden: 4,
  batch_size: 16,
  epochs: 2,
  backend: 'wasm',
  valid_every: 0,
  objective: { name: 'exp_rsft', lambda: 1 },
};

function sasrec(out: string, train: Record<string, unknown>, seed = 4, data = examples) {
  return runPipeline(
    resolvePipeline({
      seed,
      stages: [
        { stage: 'read_parquet', with: { path: data } },
        { stage: 'reward_stats', with: { barrier: true, batch_metrics: false, path: path.join(out, 'stats.json') } },
        { stage: 'train_sasrec', with: { ...base, ...train } },
      ],
    }),
    { outDir: out, logger: memoryLogger(), writeFiles: false },
  );
}

/** An interrupted run (3 of its 2 × 2 steps: 30 sequences, batches of 16); returns its output directory. */
async function interrupted(): Promise<string> {
  const out = tmp('resume');
  await sasrec(out, { stop_after_steps: 3, method: 'm' });
  return out;
}

async function resumeError(out: string, train: Record<string, unknown>, seed = 4, data = examples): Promise<ConfigError> {
  try {
    await sasrec(out, { resume: true, method: 'm', ...train }, seed, data);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/train_sasrec\[m\]: cannot resume from .*step-3: the configuration changed/);
    return e as ConfigError;
  }
  throw new Error('the resume was accepted');
}

describe('train_sasrec: resume with a changed configuration', () => {
  it('a changed objective is refused by name (was: TypeError reading P)', async () => {
    const e = await resumeError(await interrupted(), { objective: { name: 'drpo' } });
    expect(e.message).toMatch(/objective\.name: the checkpoint has "exp_rsft", this run has "drpo"/);
    expect(e.message).toMatch(/objective\.lambda: the checkpoint has 1, this run has nothing/);
    expect(e.message).not.toMatch(/TypeError/);
  });

  it('a changed d is refused (was: silently ignored)', async () => {
    const e = await resumeError(await interrupted(), { d: 16 });
    expect(e.message).toMatch(/\(d: the checkpoint has 8, this run has 16\)/);
    expect(e.problems).toEqual(['d']);
  });

  it('lr, batch size, λ and seed changed at once: every field is named', async () => {
    const e = await resumeError(await interrupted(), { lr: 0.01, batch_size: 8, objective: { name: 'exp_rsft', lambda: 0.5 } }, 5);
    expect(e.problems).toEqual(['batch_size', 'lr', 'objective.lambda', 'seed']);
    expect(e.message).toMatch(/seed: the checkpoint has 4, this run has 5/);
  });

  it('other training data is refused', async () => {
    const e = await resumeError(await interrupted(), {}, 4, otherExamples);
    expect(e.problems).toContain('data.sha256');
  });

  it('more epochs, another log_every or checkpoint_every are allowed and the run continues', async () => {
    const out = await interrupted();
    const logger = memoryLogger();
    await runPipeline(
      resolvePipeline({
        seed: 4,
        stages: [
          { stage: 'read_parquet', with: { path: examples } },
          { stage: 'reward_stats', with: { barrier: true, batch_metrics: false, path: path.join(out, 'stats.json') } },
          { stage: 'train_sasrec', with: { ...base, resume: true, method: 'm', epochs: 3, log_every: 1, checkpoint_every: 2 } },
        ],
      }),
      { outDir: out, logger, writeFiles: false },
    );
    expect(logger.lines.join('\n')).toMatch(/resuming from sasrec "m" step 3/);
    expect(fs.existsSync(path.join(out, 'checkpoints', 'm', 'step-6', 'checkpoint.json'))).toBe(true);
    expect(readCheckpointMeta(path.join(out, 'checkpoints', 'm', 'step-6')).training?.lr).toBe(0.001);
  });
});

describe('train_gaussian and train_online: resume with a changed configuration', () => {
  const world = { num_users: 20, num_items: 15, dim: 4, topics: 2, interactions_per_user: 6 };
  const gaussian = { objective: { name: 'bc' }, epochs: 2, batch_size: 32, hidden: [6], lr: 3e-3, backend: 'wasm' };
  const online = { algorithm: 'grpo', updates: 3, group_size: 4, contexts_per_update: 6, lr: 1e-2, checkpoint_every: 1, backend: 'wasm' };
  const pipeline = (g: Record<string, unknown>, o?: Record<string, unknown>) =>
    resolvePipeline({
      seed: 2,
      stages: [
        { stage: 'simulate_recsim', with: world },
        { stage: 'split_sequences', with: { max_len: 5, apply_threshold: false } },
        { stage: 'train_gaussian', with: { ...gaussian, ...g } },
        ...(o ? [{ stage: 'train_online', with: { ...online, ...o } }] : []),
      ],
    });

  it('train_gaussian: a changed hidden width and lr are refused by name', async () => {
    const out = tmp('gauss');
    await runPipeline(pipeline({ stop_after_steps: 1 }), { outDir: out, logger: memoryLogger(), writeFiles: false });
    await expect(runPipeline(pipeline({ resume: true, hidden: [7], lr: 1e-3 }), { outDir: out, logger: memoryLogger(), writeFiles: false })).rejects.toThrow(
      /train_gaussian\[bc\]: cannot resume from .*: the configuration changed \(hidden: the checkpoint has \[6\], this run has \[7\]; lr: the checkpoint has 0\.003, this run has 0\.001\)/,
    );
  });

  it('train_online: a changed clip and group size are refused by name', async () => {
    const out = tmp('online');
    await runPipeline(pipeline({}, { stop_after_updates: 1 }), { outDir: out, logger: memoryLogger(), writeFiles: false });
    await expect(
      runPipeline(pipeline({}, { resume: true, clip: 0.3, group_size: 5 }), { outDir: out, logger: memoryLogger(), writeFiles: false }),
    ).rejects.toThrow(
      /train_online\[grpo\]: cannot resume from .*step-1: the configuration changed \(clip: the checkpoint has 0\.2, this run has 0\.3; group_size: the checkpoint has 4, this run has 5\)/,
    );
  });
});

describe('the comparison (pure)', () => {
  it('names nested fields, whole arrays and absent fields, sorted', () => {
    expect(trainingConfigDiff({ a: 1, o: { x: 1, y: [1, 2] }, gone: true }, { a: 1, o: { x: 2, y: [1, 3] }, added: 'v' })).toEqual([
      'added: the checkpoint has nothing, this run has "v"',
      'gone: the checkpoint has true, this run has nothing',
      'o.x: the checkpoint has 1, this run has 2',
      'o.y: the checkpoint has [1,2], this run has [1,3]',
    ]);
    expect(trainingConfigDiff({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
  });

  it('the recorded configuration leaves out what a resume may change and keeps the effective seed', () => {
    const c = trainingConfigOf({ epochs: 9, lr: 0.1, log_every: 3, seed: undefined, objective: { name: 'bc' } }, OFFLINE_RESUME_MAY_CHANGE, { seed: 7 });
    expect(c).toEqual({ lr: 0.1, objective: { name: 'bc' }, seed: 7 });
  });

  it('a checkpoint without a recorded configuration cannot be checked (false), a matching one passes (true)', () => {
    expect(checkResumeConfig('/ck', undefined, { lr: 1 }, 't')).toBe(false);
    expect(checkResumeConfig('/ck', { lr: 1 }, { lr: 1 }, 't')).toBe(true);
    expect(() => checkResumeConfig('/ck', { lr: 1 }, { lr: 2 }, 't')).toThrow(
      't: cannot resume from /ck: the configuration changed (lr: the checkpoint has 1, this run has 2)',
    );
  });
});
