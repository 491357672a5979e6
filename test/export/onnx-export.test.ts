import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runExport } from '../../pipelines/commands/export.js';
import { readCheckpoint, writeCheckpoint } from '../../stages/train/checkpoint.js';
import { policyFromCheckpoint } from '../../stages/train/load-policy.js';
import { SasrecPolicy } from '../../stages/train/sasrec-policy.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { runCli } from '../tracking/cli-child.js';
import { CONFIG, leftPadded, longest, randomCheckpoint, randomHistories, tmpDir } from './fixtures.js';

function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): { worst: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (e === -Infinity || a === -Infinity) {
      if (a !== e) return { worst: Infinity, at: i };
      continue;
    }
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `worst relative error ${worst} at ${at}`).toBeLessThanOrEqual(tol);
  return { worst, at };
}

describe('export --format onnx', () => {
  it('scores equal recpost\'s (1e-4) for random histories, empty, short, padded and longer than max_len', async () => {
    const d = tmpDir('onnx');
    const ckDir = await randomCheckpoint(path.join(d, 'ck'));
    const out = path.join(d, 'model.onnx');
    const r = runExport({ checkpoint: ckDir, format: 'onnx', output: out });
    expect(r.scorer).toBe(out);
    expect(r.reward).toBe(path.join(d, 'model.reward.onnx'));

    const policy = policyFromCheckpoint(readCheckpoint(ckDir)) as SasrecPolicy;
    const hist = randomHistories(40);
    const expected = policy.logitsSync(hist);
    const session = await ort.InferenceSession.create(out);
    expect(session.inputNames).toEqual(['history']);
    expect(session.outputNames).toEqual(['scores']);
    // The same rows at two widths: exactly the longest history, and 3 more padding columns.
    for (const width of [longest(hist), longest(hist) + 3]) {
      const feeds = { history: new ort.Tensor('int64', leftPadded(hist, width), [40, width]) };
      const res = await session.run(feeds);
      const scores = res.scores!;
      expect(scores.dims).toEqual([40, CONFIG.numItems]);
      const got = scores.data as Float32Array;
      for (let row = 0; row < 40; row++) expect(got[row * CONFIG.numItems]).toBe(-Infinity);
      closeTo(got, expected);
    }
    // The scores are not trivially equal across rows (the test would pass for a constant model otherwise).
    expect(Math.abs(expected[2 * CONFIG.numItems + 5]! - expected[3 * CONFIG.numItems + 5]!)).toBeGreaterThan(1e-3);

    // Reward head: (history, item) → reward, against recpost's predictRewards.
    const items = BigInt64Array.from({ length: 40 }, (_, i) => BigInt(1 + ((i * 7) % (CONFIG.numItems - 1))));
    const expectedRewards = policy.predictRewardsSync(hist, Int32Array.from(items, Number));
    const rewardSession = await ort.InferenceSession.create(r.reward!);
    const width = longest(hist) + 1;
    const rr = await rewardSession.run({ history: new ort.Tensor('int64', leftPadded(hist, width), [40, width]), item: new ort.Tensor('int64', items, [40]) });
    expect(rr.reward!.dims).toEqual([40]);
    closeTo(rr.reward!.data as Float32Array, expectedRewards);
    policy.dispose();
  });

  it('also through the CLI in a child process; errors are one line with exit code 2', async () => {
    const d = tmpDir('cli');
    const ckDir = await randomCheckpoint(path.join(d, 'run', 'checkpoints', 'bc', 'step-12'));
    const out = path.join(d, 'served', 'scorer.onnx');
    // A directory of step-<n> checkpoints resolves to the latest one.
    const ok = runCli(['export', path.dirname(ckDir), '--format', 'onnx', '--output', out]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(`${out}\n${path.join(d, 'served', 'scorer.reward.onnx')}\n`);
    const session = await ort.InferenceSession.create(out);
    const res = await session.run({ history: new ort.Tensor('int64', BigInt64Array.from([0n, 3n, 4n]), [1, 3]) });
    expect(res.scores!.dims).toEqual([1, CONFIG.numItems]);

    const bad = runCli(['export', ckDir, '--format', 'tflite', '--output', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^(error|recpost): export: --format must be one of onnx; got "tflite"\n$/);
    const missing = runCli(['export', path.join(d, 'nope'), '--output', out]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`${missing.stderr.startsWith('recpost:') ? 'recpost' : 'error'}: export: no such checkpoint directory: ${path.join(d, 'nope')}\n`);
    expect(() => runExport({ checkpoint: ckDir, output: out, format: 'onnx' })).not.toThrow();
    expect(() => runExport({ checkpoint: d, output: out })).toThrow(ConfigError);
    expect(fs.readdirSync(path.join(d, 'served')).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a checkpoint that is not a SASRec model, naming its kind', () => {
    const d = tmpDir('gauss');
    const dir = writeCheckpoint(path.join(d, 'g'), { kind: 'gaussian', method: 'drpo', model: {}, step: 1, epoch: 1, seed: 0, position: null, rng: { seed: 0, step: 1, epoch: 1, batch: 0 } }, [
      { name: 'w', shape: [1], data: new Float32Array(1) },
    ]);
    expect(() => runExport({ checkpoint: dir, output: path.join(d, 'm.onnx') })).toThrow(`export: ${dir} is a "gaussian" checkpoint; only sasrec checkpoints can be exported`);
    expect(fs.existsSync(path.join(d, 'm.onnx'))).toBe(false);
  });
});
