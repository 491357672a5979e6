import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { takeRows } from '../../stages/core/batch.js';
import { assembleMinibatch, ExampleCollector } from '../../stages/train/sequence-data.js';
import { listCheckpoints, readCheckpoint, writeCheckpoint, type CheckpointInput } from '../../stages/train/checkpoint.js';
import { simulateLog } from './helpers.js';

/** The rows of a set as plain arrays. */
function rows(set: ReturnType<ExampleCollector['finish']>) {
  return Array.from({ length: set.numRows }, (_, r) => ({
    items: Array.from(set.items.subarray(set.offsets[r]!, set.offsets[r + 1]!)),
    rewards: Array.from(set.rewards.subarray(set.offsets[r]!, set.offsets[r + 1]!)),
    from: set.targetFrom[r]!,
    user: set.users[r]!,
  }));
}

describe('training rows from examples', () => {
  const log = simulateLog({ users: 3, length: 9, numItems: 50, seed: 2, maxContext: 4, splitLast: true });

  it("sequence mode rebuilds each user's train history from short contexts, in time order whatever the row order", () => {
    const c = new ExampleCollector('sequence', 20);
    c.add(log.batch);
    const a = rows(c.finish());
    // shuffled input, in two batches
    const perm = Int32Array.from({ length: log.batch.numRows }, (_, i) => (i * 7) % log.batch.numRows);
    const shuffled = takeRows(log.batch, perm);
    const c2 = new ExampleCollector('sequence', 20);
    c2.add(
      takeRows(
        shuffled,
        Int32Array.from({ length: 10 }, (_, i) => i),
      ),
    );
    c2.add(
      takeRows(
        shuffled,
        Int32Array.from({ length: shuffled.numRows - 10 }, (_, i) => i + 10),
      ),
    );
    expect(rows(c2.finish())).toEqual(a);
    expect(a).toHaveLength(3);
    // user 1: items 0..7 of its walk are train (the 9th, t = 8, is the test target)
    const ctx = log.batch.columns.context as { offsets: Int32Array; values: Int32Array };
    const act = log.batch.columns.action as Int32Array;
    const walk = [ctx.values[ctx.offsets[0]!]!, ...Array.from(act.subarray(0, 7))];
    expect(a[0]!.items).toEqual(walk);
    expect(a[0]!.from).toBe(1);
    expect(a[0]!.rewards.slice(1)).toEqual(Array.from((log.batch.columns.reward as Float32Array).subarray(0, 7)));
  });

  it('long histories are cut into windows aligned to the end; every item after the first is a target once', () => {
    const c = new ExampleCollector('sequence', 3);
    c.add(log.batch);
    const set = c.finish();
    const r = rows(set).filter((x) => x.user === 1);
    // 8 train items, windows of ≤ 4 items overlapping by one: [0..1] [1..4] [4..7]
    expect(r.map((x) => x.items.length)).toEqual([2, 4, 4]);
    const whole = new ExampleCollector('sequence', 100);
    whole.add(log.batch);
    const all = rows(whole.finish()).filter((x) => x.user === 1)[0]!.items;
    expect(all).toHaveLength(8);
    const targets = r.flatMap((x) => x.items.slice(1));
    expect(targets).toEqual(all.slice(1));
    expect(set.numTargets).toBe(3 * 7);
  });

  it('last mode: one row per train example, context cut to max_len, only the action is a target', () => {
    const c = new ExampleCollector('last', 2);
    c.add(log.batch);
    const set = c.finish();
    expect(set.numRows).toBe(3 * 7);
    const r = rows(set);
    const ctx = log.batch.columns.context as { offsets: Int32Array; values: Int32Array };
    const act = log.batch.columns.action as Int32Array;
    // example 5 of user 1 has 4 context items; the last 2 are kept
    expect(r[5]!.items).toEqual([...Array.from(ctx.values.subarray(ctx.offsets[6]! - 2, ctx.offsets[6]!)), act[5]]);
    expect(r[5]!.from).toBe(2);
    expect(set.numTargets).toBe(21);
  });

  it('minibatches are right-padded, with each target at its input position', () => {
    const c = new ExampleCollector('sequence', 20);
    c.add(log.batch);
    const set = c.finish();
    const mb = assembleMinibatch(set, Int32Array.from([2, 0]), 20);
    expect(mb.B).toBe(2);
    expect(mb.T).toBe(7);
    expect(mb.targets.length).toBe(14);
    const r2 = rows(set)[2]!;
    for (let p = 1; p < r2.items.length; p++) {
      expect(mb.flatIndex[p - 1]).toBe(p - 1);
      expect(mb.targets[p - 1]).toBe(r2.items[p]);
      expect(mb.inputIds[p - 1]).toBe(r2.items[p - 1]);
      expect(mb.groups[p - 1]).toBe(3);
    }
    expect(mb.flatIndex[7]).toBe(7);
  });
});

describe('checkpoint directories', () => {
  const meta: CheckpointInput = {
    kind: 'sasrec',
    method: 'bc',
    model: { d: 2 },
    step: 4,
    epoch: 1,
    seed: 9,
    position: { epoch: 1, batch: 0, rows: 10 },
    objectiveState: { P: 0.51, window: [0.1, 0.25] },
    rng: { seed: 9, step: 4, epoch: 1, batch: 0 },
  };

  it('round-trips tensors, optimiser state and JSON state exactly; writes atomically and replaces in place', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-ck-'));
    const dir = path.join(root, 'step-4');
    const w = Float32Array.from([1.5, -2.25, Math.PI, 1e-30]);
    writeCheckpoint(dir, meta, [{ name: 'a', shape: [2, 2], data: w }], [{ name: 'm/a', shape: [2, 2], data: Float32Array.from([0, 1, 2, 3]) }]);
    const ck = readCheckpoint(dir);
    expect(Array.from(ck.params.get('a')!.data)).toEqual(Array.from(w));
    expect(ck.params.get('a')!.shape).toEqual([2, 2]);
    expect(Array.from(ck.optimizer.get('m/a')!.data)).toEqual([0, 1, 2, 3]);
    expect(ck.meta.objectiveState).toEqual(meta.objectiveState);
    writeCheckpoint(dir, { ...meta, step: 5 }, [{ name: 'a', shape: [4], data: new Float32Array(4) }]);
    expect(readCheckpoint(dir).meta.step).toBe(5);
    expect(fs.readdirSync(root)).toEqual(['step-4']);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([4]);
  });

  it('says what is wrong with a damaged checkpoint', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-ck-'));
    const dir = path.join(root, 'step-1');
    writeCheckpoint(dir, meta, [{ name: 'a', shape: [8], data: new Float32Array(8) }]);
    fs.truncateSync(path.join(dir, 'weights.bin'), 16);
    expect(() => readCheckpoint(dir)).toThrow(/weights\.bin: truncated \(tensor "a"/);
    fs.writeFileSync(path.join(dir, 'checkpoint.json'), '{"format":"other"}');
    expect(() => readCheckpoint(dir)).toThrow(/not a recpost checkpoint/);
    expect(() => readCheckpoint(root)).toThrow(/not a checkpoint directory/);
  });
});
