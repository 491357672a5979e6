/** runStage: one registered stage outside a pipeline, on arrays, async iterables and Node streams. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runStage, runStageByName } from '../../pipelines/run-stage.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import type { Batch } from '../../stages/core/batch.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';

/** An `examples` batch with the given rewards. */
function rewards(values: number[], firstUser = 0): Batch {
  const n = values.length;
  return {
    table: 'examples',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, i) => firstUser + i),
      action: Int32Array.from({ length: n }, (_, i) => 1 + i),
      reward: Float32Array.from(values),
    },
  };
}

const input = () => [rewards([1, 2, 3]), rewards([5, 4], 3)];
/** Exp-RSFT with a given shift c: w = exp((r − c)/λ) (paper 000, Eq. 4). */
const expWeights = (rs: number[], c: number, lambda: number) => rs.map((r) => Math.exp((r - c) / lambda));

function weights(out: Batch[]): number[] {
  return out.flatMap((b) => Array.from(b.columns.weight as Float32Array));
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('runStage', () => {
  it('runs an objective stage on an array of batches: w = exp((r − c)/λ)', async () => {
    const out = await runStage('exp_rsft', { lambda: 2, shift: 5 }, input()).toArray();
    expect(out.map((b) => [b.table, b.numRows])).toEqual([
      ['weighted_examples', 3],
      ['weighted_examples', 2],
    ]);
    const want = expWeights([1, 2, 3, 5, 4], 5, 2);
    weights(out).forEach((w, i) => expect(w).toBeCloseTo(want[i]!, 6));
    expect(Array.from(out[1]!.columns.user_id as Int32Array)).toEqual([3, 4]);
  });

  it('takes an async generator and an object-mode Node Readable alike, and its output becomes a Readable again', async () => {
    async function* gen() {
      for (const b of input()) yield b;
    }
    const fromGen = weights(await runStage('exp_rsft', { lambda: 1, shift: 5 }, gen()).toArray());
    const fromStream: Batch[] = [];
    for await (const b of runStage('exp_rsft', { lambda: 1, shift: 5 }, Readable.from(input()))) fromStream.push(b);
    const want = expWeights([1, 2, 3, 5, 4], 5, 1);
    fromGen.forEach((w, i) => expect(w).toBeCloseTo(want[i]!, 6));
    expect(weights(fromStream)).toEqual(fromGen);
    // Chained: the output of one stage is the input of the next, through a Node stream.
    const chained = await runStage('rsft_linear', {}, Readable.from(runStage('exp_rsft', { lambda: 1, shift: 5 }, input()))).toArray();
    expect(weights(chained)).toEqual([1, 2, 3, 5, 4]);
  });

  it('pulls its input on demand: one batch in, one batch out', async () => {
    let pulled = 0;
    function* counted() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield rewards([1, 2]);
      }
    }
    const it = runStage('rsft_linear', {}, counted())[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    expect(pulled).toBe(2);
    await it.return?.();
  });

  it('collects metric records and counters, and hands each record to onMetric', async () => {
    const seen: string[] = [];
    const run = runStage('exp_rsft', { lambda: 1, shift: 5 }, input(), { runId: 'etl-7', onMetric: (r) => seen.push(r.metric) });
    await run.toArray();
    expect(run.metrics.length).toBeGreaterThan(0);
    expect(run.metrics.every((r) => r.run === 'etl-7')).toBe(true);
    expect(seen).toEqual(run.metrics.map((r) => r.metric));
    expect(run.counters).toMatchObject({ rowsIn: 5, rowsOut: 5, batchesIn: 2, batchesOut: 2 });
  });

  it('writes and reads a Parquet dataset: a sink and a source round trip the batches', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-api-')), 'ds');
    const written = await runStage('write_parquet', { path: dir }, input()).toArray();
    expect(written.reduce((n, b) => n + b.numRows, 0)).toBe(5);
    const back = await runStage('read_parquet', { path: dir }).toArray();
    expect(back.flatMap((b) => Array.from(b.columns.reward as Float32Array))).toEqual([1, 2, 3, 5, 4]);
    expect(back.flatMap((b) => Array.from(b.columns.user_id as Int32Array))).toEqual([0, 1, 2, 3, 4]);
  });

  it('validates options as a pipeline file does: the same problems, the stage named', () => {
    const e = configError(() => runStage('exp_rsft', { lambda: -1, shift_mode: 'batch', shift: 2 }, input()));
    expect(e.message).toBe('stage "exp_rsft": field "lambda" must be > 0, got -1');
    const pipeline = configError(() =>
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: 'x' } },
          { stage: 'exp_rsft', with: { lambda: -1, shift_mode: 'batch', shift: 2 } },
        ],
      }),
    );
    expect(pipeline.message).toBe(`pipeline: stages[1] (stage "exp_rsft"): field "lambda" must be > 0, got -1`);
    // Cross-field checks too (once the fields are valid).
    expect(configError(() => runStage('exp_rsft', { shift_mode: 'batch', shift: 2 }, input())).message).toBe(
      'stage "exp_rsft": field "shift" applies to shift_mode global only (shift_mode is batch)',
    );
  });

  it('names unknown stages, wrong inputs and missing inputs in one line', async () => {
    expect(configError(() => runStageByName('dpro', {}, [])).message).toMatch(/^unknown stage "dpro" \(known: .*drpo.*\)$/);
    expect(configError(() => runStageByName('drpo', {})).message).toBe('stage "drpo": a transform stage needs input batches');
    expect(configError(() => runStageByName('drpo', {}, 42 as never)).message).toBe(
      'stage "drpo": input must be an array, an iterable or a Node Readable of batches, got a number',
    );
    const bytes = Readable.from([Buffer.from('not a batch')], { objectMode: false });
    await expect(runStage('drpo', {}, bytes as never).toArray()).rejects.toThrow(
      'stage "drpo": input item 0 is not a batch: got a Buffer or string (a Node stream must be in object mode and carry batches)',
    );
  });

  it('runs in the directory it is given, with the given seed and logger', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-api-'));
    const log = memoryLogger();
    const run = runStage('reward_stats', { barrier: true }, input(), { outDir: dir, seed: 3, logger: log });
    expect(run.outDir).toBe(dir);
    await run.toArray();
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'reward_stats.json'), 'utf8')) as { count: number; mean: number; max: number };
    expect(summary).toMatchObject({ count: 5, mean: 3, max: 5 });
    expect(run.artifacts.get('reward_stats')).toBeDefined();
  });
});
