/**
 * train_sasrec with `threads` in a pipeline (2 threads against 1 on the
 * pipeline's own metrics), and a dying worker ending its process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { initBackend } from '../../stages/train/backend.js';
import { resolveThreads, trainingThreads } from '../../stages/train/parallel/threads.js';
import { simulateLog } from './helpers.js';

let dir: string;
let examplesFile: string;

beforeAll(async () => {
  await initBackend('wasm');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-par-stage-'));
  examplesFile = path.join(dir, 'examples.parquet');
  writeParquetFile(examplesFile, [simulateLog({ users: 40, length: 12, numItems: 25, seed: 11, holdOut: true }).batch]);
});

async function run(threads: number, extra: Record<string, unknown> = {}, outName = `run-${threads}`) {
  const p = resolvePipeline({
    name: `threads-${threads}`,
    seed: 3,
    stages: [
      { stage: 'read_parquet', with: { path: examplesFile } },
      { stage: 'reward_stats', with: { barrier: true, batch_metrics: false } },
      {
        stage: 'train_sasrec',
        with: {
          max_len: 12,
          d: 16,
          blocks: 1,
          heads: 2,
          dropout: 0.1,
          reward_hidden: 8,
          batch_size: 9,
          log_every: 1,
          epochs: 3,
          threads,
          objective: { name: 'drpo', rho: 0.5 },
          ...extra,
        },
      },
    ],
  });
  const logger = memoryLogger();
  const res = await runPipeline(p, { outDir: path.join(dir, outName), logger });
  return { metrics: res.metrics, lines: logger.lines, checkpoints: res.artifacts.get('checkpoints') as { step: number }[] };
}

describe('train_sasrec threads', () => {
  it('trains DRPO on 2 threads to the 1-thread metrics within float rounding', async () => {
    const one = await run(1);
    const two = await run(2);
    expect(two.lines.some((l) => l.includes('2 threads (data-parallel gradients)'))).toBe(true);
    expect(one.lines.some((l) => l.includes('threads'))).toBe(false);
    const pick = (ms: typeof one.metrics, split: string, metric: string) => ms.filter((m) => m.split === split && m.metric === metric).map((m) => m.value);
    for (const [split, metric] of [
      ['train', 'loss'],
      ['train', 'nll'],
      ['train', 'w_mean'],
      ['train', 'reward_mse'],
      ['train', 'phantom_grad_norm'],
      ['train', 'kept_grad_norm'],
      ['valid', 'nll'],
    ] as const) {
      const a = pick(one.metrics, split, metric);
      const b = pick(two.metrics, split, metric);
      expect(a.length, `${split} ${metric}`).toBeGreaterThan(0);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(b[i]! - a[i]!), `${split} ${metric}[${i}]`).toBeLessThan(2e-5 * Math.max(1, Math.abs(a[i]!)));
    }
  });

  it('resumes a 1-thread checkpoint on 2 threads (the thread count may change on resume)', async () => {
    await run(1, { stop_after_steps: 2 }, 'resume');
    const resumed = await run(2, { resume: true }, 'resume');
    expect(resumed.lines.some((l) => l.includes('resuming from'))).toBe(true);
    expect(resumed.checkpoints.at(-1)!.step).toBe(3 * Math.ceil(40 / 9));
  });

  it('reads threads 0 as every core', () => {
    expect(resolveThreads(0)).toBe(os.availableParallelism());
    expect(resolveThreads(3)).toBe(3);
  });

  it('trains on one thread, with a notice, on the native TensorFlow backend', () => {
    const log = memoryLogger();
    expect(trainingThreads(2, 'tensorflow', log, 'demo')).toBe(1);
    expect(
      log.lines.some((l) => l.includes('demo: threads 2 ignored on the native TensorFlow backend (it already uses every core); training on one thread')),
    ).toBe(true);
    expect(trainingThreads(2, 'wasm', undefined)).toBe(2);
    expect(trainingThreads(1, 'tensorflow', undefined)).toBe(1);
  });

  it('ends the process with the error when a worker thread dies', async () => {
    const script = path.join(import.meta.dirname, 'fixtures', 'parallel-worker-dies.ts');
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect(signal).toBeNull();
    expect(code).toBe(1);
    expect(stderr).toContain('fixture: training worker 1 exited (code 1) during training');
    expect(stdout).not.toContain('training finished');
    expect(Date.now() - t0).toBeLessThan(50_000);
  });
});
