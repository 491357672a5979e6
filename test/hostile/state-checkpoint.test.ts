/**
 * Checkpoints that lie (issue 9, "State that lies"): a truncated, extended or
 * altered weights.bin, an edited checkpoint.json (bad JSON, missing fields,
 * wrong shapes, changed values) and non-finite weights are each one located
 * CheckpointError (a ConfigError: exit 2), never a bare TypeError or an NDCG
 * of 0.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { readCheckpoint, readCheckpointMeta, writeCheckpoint, type CheckpointInput } from '../../stages/train/checkpoint.js';
import { CheckpointError } from '../../stages/train/checkpoint-integrity.js';
import { writeExamples, randomExamples } from '../eval/helpers.js';
import { cliInProcess, removeTmp, tmp } from './state-helpers.js';

afterAll(removeTmp);

const input: CheckpointInput = {
  kind: 'gaussian',
  method: 'bc',
  model: { numItems: 4, dim: 2, hidden: [3], sigma: 'fixed', sigmaInit: 0.5, logSigmaMin: -5, logSigmaMax: 2 },
  step: 7,
  epoch: 1,
  seed: 3,
  position: { epoch: 1, batch: 0, rows: 10 },
  rng: { seed: 3, step: 7, epoch: 1, batch: 0 },
  training: { objective: { name: 'bc' }, lr: 0.001, seed: 3 },
};

function write(values: Float32Array = Float32Array.from([1, 2, 3, 4, 5, 6]), opt: Float32Array = Float32Array.from([0.5, 0.25])): string {
  const dir = path.join(tmp('ck'), 'step-7');
  writeCheckpoint(dir, input, [{ name: 'w', shape: [2, 3], data: values }], [{ name: 'm/w', shape: [2], data: opt }]);
  return dir;
}

const json = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')) as Record<string, unknown>;
const saveJson = (dir: string, v: unknown) => fs.writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify(v, null, 2));

/** The error readCheckpoint throws, checked to be a located CheckpointError. */
function failure(dir: string): CheckpointError {
  try {
    readCheckpoint(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.startsWith(`checkpoint ${dir}: `)).toBe(true);
    expect((e as Error).message).not.toContain('\n');
    return e as CheckpointError;
  }
  throw new Error('readCheckpoint accepted a damaged checkpoint');
}

describe('checkpoint hashes', () => {
  it('records the SHA-256 and size of weights.bin, computed here independently', () => {
    const dir = write();
    const bytes = fs.readFileSync(path.join(dir, 'weights.bin'));
    const g = json(dir).integrity as Record<string, unknown>;
    expect(g.weightsSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(g.weightsBytes).toBe(8 * 4);
    expect(typeof g.configSha256).toBe('string');
    // A clean checkpoint reads back with its values.
    expect(Array.from(readCheckpoint(dir).params.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('the config hash depends on the training configuration only, not on key order', () => {
    const a = json(write()).integrity as Record<string, string>;
    const dir = path.join(tmp('ck'), 'step-7');
    writeCheckpoint(dir, { ...input, training: { seed: 3, lr: 0.001, objective: { name: 'bc' } } }, [{ name: 'w', shape: [1], data: new Float32Array(1) }]);
    expect((json(dir).integrity as Record<string, string>).configSha256).toBe(a.configSha256);
    const other = path.join(tmp('ck'), 'step-7');
    writeCheckpoint(other, { ...input, training: { ...input.training, lr: 0.002 } }, [{ name: 'w', shape: [1], data: new Float32Array(1) }]);
    expect((json(other).integrity as Record<string, string>).configSha256).not.toBe(a.configSha256);
  });
});

describe('a damaged weights.bin', () => {
  it('truncated: names the tensor that is cut', () => {
    const dir = write();
    fs.truncateSync(path.join(dir, 'weights.bin'), 10);
    expect(failure(dir).message).toMatch(/weights\.bin: truncated \(tensor "w" ends at byte 24, the file has 10 of the 32 bytes/);
  });

  it('extended with extra bytes', () => {
    const dir = write();
    fs.appendFileSync(path.join(dir, 'weights.bin'), Buffer.from([1, 2, 3, 4]));
    expect(failure(dir).message).toMatch(/weights\.bin has 36 bytes, the tensor table describes 32/);
  });

  it('one byte altered, same size', () => {
    const dir = write();
    const f = path.join(dir, 'weights.bin');
    const b = fs.readFileSync(f);
    b[5] = b[5]! ^ 0x01;
    fs.writeFileSync(f, b);
    expect(failure(dir).message).toMatch(/weights\.bin was altered after the checkpoint was written/);
  });

  it('missing', () => {
    const dir = write();
    fs.rmSync(path.join(dir, 'weights.bin'));
    expect(failure(dir).message).toMatch(/weights\.bin is missing/);
  });
});

describe('an edited checkpoint.json', () => {
  it('not JSON', () => {
    const dir = write();
    fs.writeFileSync(path.join(dir, 'checkpoint.json'), '{"format": "recpost-checkpoint", ');
    expect(failure(dir).message).toMatch(/checkpoint\.json is not valid JSON/);
  });

  it('a JSON array instead of an object', () => {
    const dir = write();
    fs.writeFileSync(path.join(dir, 'checkpoint.json'), '[1, 2]');
    expect(failure(dir).message).toMatch(/must hold a JSON object/);
  });

  it('a missing field', () => {
    const dir = write();
    const { kind: _k, ...rest } = json(dir);
    saveJson(dir, rest);
    expect(failure(dir).message).toMatch(/checkpoint\.json: "kind" is missing; it must be the model kind/);
  });

  it('a missing tensor table', () => {
    const dir = write();
    const { params: _p, ...rest } = json(dir);
    saveJson(dir, rest);
    expect(failure(dir).message).toMatch(/"params" must be a list of tensors/);
  });

  it('a wrong shape (older checkpoint without hashes)', () => {
    const dir = write();
    const m = json(dir);
    delete m.integrity;
    (m.params as { shape: number[] }[])[0]!.shape = [3, 3];
    saveJson(dir, m);
    expect(failure(dir).message).toMatch(/params\[0\] "w" has length 6 but shape \[3,3\] holds 9 values/);
  });

  it('a shape that is not a list of integers', () => {
    const dir = write();
    const m = json(dir);
    delete m.integrity;
    (m.params as { shape: unknown }[])[0]!.shape = ['2', 3];
    saveJson(dir, m);
    expect(failure(dir).message).toMatch(/has shape \["2",3\], not a list of non-negative integers/);
  });

  it('a changed value that keeps the structure valid (the step) is caught by the content hash', () => {
    const dir = write();
    saveJson(dir, { ...json(dir), step: 8 });
    expect(failure(dir).message).toMatch(/checkpoint\.json was changed after the checkpoint was written/);
    expect(() => readCheckpointMeta(dir)).toThrow(CheckpointError);
  });

  it('a changed training configuration is caught even with a recomputed meta hash', () => {
    const dir = write();
    const m = json(dir);
    m.training = { ...(m.training as object), lr: 1 };
    saveJson(dir, m);
    expect(failure(dir).message).toMatch(/checkpoint\.json was changed|training configuration does not match/);
  });

  it('an older checkpoint without hashes still loads', () => {
    const dir = write();
    const m = json(dir);
    delete m.integrity;
    saveJson(dir, m);
    expect(readCheckpoint(dir).meta.step).toBe(7);
  });
});

describe('non-finite weights', () => {
  it('NaN in a parameter', () => {
    expect(failure(write(Float32Array.from([1, 2, NaN, 4, 5, 6]))).message).toMatch(
      /tensor "w" holds NaN at index 2: a checkpoint with non-finite weights cannot be evaluated or resumed/,
    );
  });

  it('Infinity in an optimiser moment', () => {
    expect(failure(write(undefined, Float32Array.from([0, -Infinity]))).message).toMatch(/tensor "m\/w" holds -Infinity at index 1/);
  });
});

describe('recpost evaluate on a damaged checkpoint: one line, exit 2', () => {
  const data = () => {
    const d = tmp('data');
    // One Parquet file (a directory without a manifest would add a notice line).
    return writeExamples(path.join(d, 'part-0.parquet'), randomExamples(40, 5, 1));
  };

  it('NaN weights: exit 2 naming the checkpoint, no metric records', async () => {
    const dir = write(Float32Array.from([NaN, 2, 3, 4, 5, 6]));
    const r = await cliInProcess(['evaluate', dir, '--data', data(), '--baselines', 'none', '--format', 'jsonl', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^error: checkpoint ${dir}: tensor "w" holds NaN at index 0`))]);
    expect(r.out).not.toMatch(/ndcg/);
  });

  it('an edited checkpoint.json without its tensor table: exit 2 naming the checkpoint (was: a bare TypeError)', async () => {
    const dir = write();
    const { params: _p, ...rest } = json(dir);
    saveJson(dir, rest);
    const r = await cliInProcess(['evaluate', dir, '--data', data(), '--baselines', 'none', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: checkpoint ${dir}: checkpoint.json: "params" must be a list of tensors\n`);
  });

  it('a truncated weights.bin: exit 2 naming the checkpoint', async () => {
    const dir = write();
    fs.truncateSync(path.join(dir, 'weights.bin'), 3);
    const r = await cliInProcess(['evaluate', dir, '--data', data(), '--baselines', 'none', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^error: checkpoint ${dir}: weights\\.bin: truncated`));
    expect(r.err).not.toMatch(/TypeError|    at /);
  });
});
