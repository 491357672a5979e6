/**
 * Kills of a child process at random points (SIGKILL), then a resume or a
 * rerun with the same state:
 *
 * - training: the final checkpoint's bytes and the metric records in
 *   metrics.jsonl equal those of an uninterrupted run (records of the steps
 *   before each kill survive; those redone are not doubled);
 * - evaluation with a state file: the rerun reports the metrics of an
 *   uninterrupted evaluation, nothing counted twice.
 *
 * The kill points come from a fixed-seed generator (reproducible), and are
 * placed while the child is writing checkpoints or committing pairs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { initBackend } from '../../stages/train/backend.js';
import { listCheckpoints } from '../../stages/train/checkpoint.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { randomExamples, writeExamples } from '../eval/helpers.js';
import { simulateLog } from '../train/helpers.js';
import { cliChild, cliInProcess, removeTmp, tmp } from './state-helpers.js';

afterAll(removeTmp);
beforeAll(async () => {
  await initBackend('wasm');
});

/** Child processes start slowly on a loaded machine (≈ 5 s each here): these tests get minutes, not the suite's 60 s. */
const rnd = mulberry32(20261203);
const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

/** Records of metrics.jsonl as sortable strings, without the wall-clock rate. */
function records(outDir: string): string[] {
  return fs
    .readFileSync(path.join(outDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MetricRecord)
    .filter((r) => r.metric !== 'examples_per_s')
    .map((r) => JSON.stringify([r.method, r.seed, r.step, r.epoch, r.split, r.metric, r.value, r.count]))
    .sort();
}

describe('training killed at random points, then resumed', () => {
  it("ends with the uninterrupted run's final checkpoint bytes and metric records", async () => {
    const dir = tmp('kill-train');
    const examples = path.join(dir, 'examples.parquet');
    writeParquetFile(examples, [simulateLog({ users: 96, length: 12, numItems: 30, seed: 3, holdOut: true }).batch]);
    // 96 sequences in batches of 8: 12 steps per epoch; records every 6 steps and at each epoch end; a checkpoint per epoch.
    const spec = (out: string) => ({
      name: 'kill',
      seed: 7,
      out_dir: out,
      stages: [
        { stage: 'read_parquet', with: { path: examples } },
        {
          stage: 'train_sasrec',
          with: {
            objective: { name: 'drpo' },
            max_len: 12,
            d: 16,
            blocks: 1,
            heads: 2,
            dropout: 0.1,
            reward_hidden: 8,
            batch_size: 8,
            epochs: 8,
            log_every: 6,
            backend: 'wasm',
            resume: true,
          },
        },
      ],
    });
    const reference = path.join(dir, 'reference');
    await runPipeline(resolvePipeline(spec(reference)), { logger: memoryLogger() });

    const out = path.join(dir, 'killed');
    const file = path.join(dir, 'pipeline.json');
    fs.writeFileSync(file, JSON.stringify(spec(out)));
    const root = path.join(out, 'checkpoints', 'drpo');
    const kills: number[] = [];
    for (const after of [between(1, 2), between(4, 5)]) {
      const extraMs = between(0, 120);
      let seenAt = 0;
      const r = await cliChild(['run', file, '--quiet'], () => {
        if (listCheckpoints(root).length < after) return false;
        seenAt ||= Date.now();
        return Date.now() - seenAt >= extraMs;
      });
      expect(r.signal, r.err).toBe('SIGKILL');
      kills.push(listCheckpoints(root).length);
    }
    expect(kills[1]!).toBeGreaterThan(kills[0]!);
    const logger = memoryLogger();
    await runPipeline(resolvePipeline(spec(out)), { logger });
    expect(logger.lines.join('\n')).toMatch(/resuming from sasrec "drpo" step \d+/);

    const last = (o: string) => fs.readFileSync(path.join(o, 'checkpoints', 'drpo', 'step-96', 'weights.bin'));
    expect(last(out).equals(last(reference))).toBe(true);
    expect(records(out)).toEqual(records(reference));
    expect(fs.readdirSync(root).filter((n) => !/^step-\d+$/.test(n))).toEqual([]);
    expect(fs.readdirSync(out).filter((n) => n.includes('.tmp-') || n.endsWith('.attempts'))).toEqual([]);
  }, 300_000);
});

describe('evaluation killed at random points, then rerun with its state', () => {
  it('reports the metrics of an uninterrupted evaluation, nothing counted twice', async () => {
    const dir = tmp('kill-eval');
    const examples = path.join(dir, 'train.parquet');
    writeParquetFile(examples, [simulateLog({ users: 40, length: 10, numItems: 40, seed: 4 }).batch]);
    await runPipeline(
      resolvePipeline({
        seed: 2,
        stages: [
          { stage: 'read_parquet', with: { path: examples } },
          {
            stage: 'train_sasrec',
            with: { max_len: 10, d: 8, blocks: 1, heads: 2, reward_hidden: 4, batch_size: 16, epochs: 3, backend: 'wasm', valid_every: 0 },
          },
        ],
      }),
      { outDir: dir, logger: memoryLogger(), writeFiles: false },
    );
    const data = path.join(dir, 'data');
    let cases = 0;
    for (let i = 0; i < 6; i++) {
      const rows = randomExamples(400, 40, 100 + i);
      cases += rows.filter((r) => r.split !== 'train').length;
      writeExamples(path.join(data, `part-${i}.parquet`), rows);
    }
    const ckpts = path.join(dir, 'checkpoints');
    const state = path.join(dir, 'state.json');
    const args = (withState: boolean) => [
      'evaluate',
      ckpts,
      '--data',
      data,
      ...(withState ? ['--state', state] : []),
      '--baselines',
      'none',
      '--format',
      'jsonl',
      '--quiet',
    ];
    const done = () => {
      try {
        return (JSON.parse(fs.readFileSync(state, 'utf8')) as { done: unknown[] }).done.length;
      } catch {
        return 0;
      }
    };
    const killAt = between(2, 7);
    const r = await cliChild(args(true), () => done() >= killAt);
    expect(r.signal, r.err).toBe('SIGKILL');
    const before = done();
    expect(before).toBeGreaterThanOrEqual(killAt);
    expect(before).toBeLessThan(18);

    const resumed = await cliInProcess(args(true));
    expect(resumed.code, resumed.err).toBe(0);
    const whole = await cliInProcess(args(false));
    expect(whole.code, whole.err).toBe(0);
    const parse = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as MetricRecord);
    const got = parse(resumed.out);
    const want = parse(whole.out);
    expect(got.map((x) => [x.method, x.step, x.split, x.metric, x.count])).toEqual(want.map((x) => [x.method, x.step, x.split, x.metric, x.count]));
    got.forEach((x, i) => expect(x.value).toBeCloseTo(want[i]!.value, 12));
    // Every evaluated case once per checkpoint: 3 checkpoints × every valid/test row of the six files.
    const mrr = got.filter((x) => x.metric === 'mrr');
    expect(mrr.reduce((s, x) => s + x.count, 0)).toBe(3 * cases);
    expect(done()).toBe(18);
  }, 300_000);
});
