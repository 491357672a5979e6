import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { fakePolicy, randomExamples, runStage, tmpDir, writeExamples, examplesBatch, removeTmpDirs } from './helpers.js';

afterAll(removeTmpDirs);

// Checkpoints load through the trainers' loadPolicy; here it serves fake policies registered by directory.
const registry = vi.hoisted(() => new Map<string, unknown>());
vi.mock('../../stages/train/load-policy.js', () => ({
  loadPolicy: async (dir: string) => {
    const p = registry.get(path.resolve(dir));
    if (!p) throw new Error(`loadPolicy: no checkpoint in ${dir}`);
    return p;
  },
}));

const { main } = await import('../../pipelines/cli.js');
const { evaluateJudgeStage } = await import('../../stages/eval/evaluate-judge-stage.js');

const NUM_ITEMS = 50;

function checkpoint(dir: string, method: string, step: number, salt: number) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify({ format: 'recpost-checkpoint', method, step, epoch: 1, seed: 0 }));
  const p = fakePolicy(NUM_ITEMS, { method, step, epoch: 1, seed: 0, salt });
  registry.set(path.resolve(dir), p);
  return p;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => registry.clear());

describe('recpost evaluate', () => {
  it('evaluates a directory of checkpoints, incrementally with --state', async () => {
    const dir = tmpDir('cli');
    const bc = checkpoint(path.join(dir, 'ckpts', 'bc', 'step-10'), 'bc', 10, 1);
    const exp = checkpoint(path.join(dir, 'ckpts', 'exp_rsft', 'step-10'), 'exp_rsft', 10, 2);
    const data = path.join(dir, 'data');
    writeExamples(path.join(data, 'part-0.parquet'), randomExamples(200, NUM_ITEMS, 3));
    const state = path.join(dir, 'state.json');
    // history=context: randomExamples' users and timestamps overlap across files, so with the full history (the default since
    // issue 12) part-1 would change part-0's exclusions and the incremental result could not equal a fresh one.
    const args = [
      'evaluate',
      path.join(dir, 'ckpts'),
      '--data',
      data,
      '--state',
      state,
      '--baselines',
      'none',
      '--format',
      'jsonl',
      '--quiet',
      '--run',
      'demo',
      '--opt',
      'history=context',
    ];

    const first = await cli(args);
    expect(first.code).toBe(0);
    const records = first.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as MetricRecord);
    expect(new Set(records.map((r) => r.method))).toEqual(new Set(['bc', 'exp_rsft']));
    expect(records.every((r) => r.run === 'demo' && r.step === 10 && r.epoch === 1)).toBe(true);
    expect(records.some((r) => r.metric === 'ndcg@50' && r.split === 'valid')).toBe(true);
    expect(bc.disposed && exp.disposed).toBe(true);

    // A new data file: only it is evaluated; the result equals evaluating both files from scratch.
    writeExamples(path.join(data, 'part-1.parquet'), randomExamples(150, NUM_ITEMS, 4));
    const callsBefore = bc.calls.score;
    const second = await cli(args);
    const secondRecs = second.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as MetricRecord);
    const fresh = await cli(args.map((a) => (a === state ? path.join(dir, 'fresh.json') : a)));
    const freshRecs = fresh.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as MetricRecord);
    expect(secondRecs.map((r) => [r.method, r.split, r.metric, r.count])).toEqual(freshRecs.map((r) => [r.method, r.split, r.metric, r.count]));
    secondRecs.forEach((r, i) => expect(r.value).toBeCloseTo(freshRecs[i]!.value, 12));
    const bcCallsSecond = bc.calls.score - callsBefore;
    expect(bcCallsSecond).toBeGreaterThan(0);

    // Nothing new: nothing is scored.
    const n = bc.calls.score + exp.calls.score;
    const third = await cli(args);
    expect(third.code).toBe(0);
    expect(bc.calls.score + exp.calls.score).toBe(n);
  });

  it('prints a table for a single checkpoint, baselines included', async () => {
    const dir = tmpDir('cli1');
    checkpoint(path.join(dir, 'ckpt'), 'bc', 3, 7);
    const file = writeExamples(path.join(dir, 'ex.parquet'), randomExamples(100, NUM_ITEMS, 9));
    const r = await cli(['evaluate', path.join(dir, 'ckpt'), '--data', file, '--ks', '5,20', '--splits', 'test', '--quiet']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^method\s+seed\s+step\s+epoch\s+split\s+ndcg@5\s+ndcg@20\s+hr@5\s+hr@20\s+mrr\s+candidates\s+n$/);
    expect(lines.filter((l) => /^(bc|popularity|random)\s/.test(l))).toHaveLength(3);
    expect(lines.every((l) => !/\svalid\s/.test(l))).toBe(true);
  });

  it('explains bad invocations', async () => {
    const dir = tmpDir('cli2');
    checkpoint(path.join(dir, 'ckpt'), 'bc', 3, 7);
    expect(await cli(['evaluate', path.join(dir, 'ckpt')])).toMatchObject({ code: 2 });
    expect((await cli(['evaluate', path.join(dir, 'ckpt'), '--data', path.join(dir, 'none')])).err).toMatch(/--data .* does not exist/);
    const file = writeExamples(path.join(dir, 'ex.parquet'), randomExamples(20, NUM_ITEMS, 9));
    expect((await cli(['evaluate', path.join(dir, 'ckpt'), '--data', file, '--kind', 'nope'])).err).toMatch(
      /option '--kind <kind>' argument 'nope' is invalid. Allowed choices are ranking, reward_model, judge, proxy_gold/,
    );
    expect((await cli(['evaluate', path.join(dir, 'ckpt'), '--data', file, '--ks', '0'])).err).toMatch(/--ks must be positive integers/);
    expect((await cli(['evaluate', path.join(dir, 'ckpt'), '--data', file, '--opt', 'batch_rows=0', '--quiet'])).err).toMatch(/batch_rows" must be ≥ 1/);
    const noCkpt = await cli(['evaluate', path.join(dir, 'nothing-here'), '--data', file]);
    expect(noCkpt.err).toMatch(/no such checkpoint or directory/);
  });

  it('runs the other kinds through --kind (reward_model)', async () => {
    const dir = tmpDir('cli3');
    checkpoint(path.join(dir, 'ckpt'), 'bc', 3, 7);
    const file = writeExamples(path.join(dir, 'ex.parquet'), randomExamples(120, NUM_ITEMS, 9));
    const r = await cli(['evaluate', path.join(dir, 'ckpt'), '--data', file, '--kind', 'reward_model', '--format', 'jsonl', '--quiet']);
    expect(r.code).toBe(0);
    const recs = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as MetricRecord);
    expect(new Set(recs.map((x) => x.method))).toEqual(new Set(['global_mean', 'user_mean', 'item_mean']));
  });
});

describe('evaluate_judge with a shared judge checkpoint', () => {
  it("scores every policy's samples with the judge's reward head", async () => {
    const dir = tmpDir('judge');
    const judgeDir = path.join(dir, 'judge');
    fs.mkdirSync(judgeDir);
    const judge = fakePolicy(6, { reward: (_c, a) => -a });
    registry.set(path.resolve(judgeDir), judge);
    const policy = fakePolicy(6, { method: 'drpo', temperature: 0.01, score: (_c, j) => (j === 2 ? 1 : 0), reward: () => 100 });
    const rows = [1, 2, 3].map((u) => ({ user: u, context: [], action: 1, split: 'test' as const }));
    const r = await runStage(
      evaluateJudgeStage,
      { judge: judgeDir },
      [examplesBatch(rows)],
      new Map<string, unknown>([['checkpoints', [{ dir: '/v/drpo', policy }]]]),
    );
    expect(r.metrics.find((x) => x.metric === 'avg_reward')).toMatchObject({ method: 'drpo', value: -2, count: 3 });
    expect(policy.calls.reward).toBe(0);
    expect(judge.disposed).toBe(true);
  });
});
