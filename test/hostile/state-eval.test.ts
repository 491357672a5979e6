/**
 * Evaluation and statistics state that lied (issue 9): a checkpoint was keyed
 * by its path (overwrite it in place and the old numbers were reported), data
 * by path + size + mtime (touch or regenerate it and it was counted twice),
 * and `stats-merge a a` double-counted. Now both are keyed by content and
 * merges refuse a shard present twice.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { evaluateRankingStage } from '../../stages/eval/evaluate-ranking-stage.js';
import { EvaluationState, mergeEvaluationStates } from '../../stages/eval/eval-state.js';
import { datasetIdentity } from '../../stages/eval/content-identity.js';
import { writeCheckpoint } from '../../stages/train/checkpoint.js';
import { RewardStats } from '../../stages/stats/reward-stats.js';
import { mergeStatsFiles, statePathFor, writeStatsFiles } from '../../stages/stats/stats-files.js';
import { fakePolicy, randomExamples, runStage, writeExamples, type ExampleRow } from '../eval/helpers.js';
import { cliInProcess, removeTmp, tmp } from './state-helpers.js';

afterAll(removeTmp);

const N = 60;
// history 'context': shards share users, and whole-history exclusion of one shard cannot see the other's rows.
const opts = (state?: string) => ({ state, baselines: [], batch_rows: 40, history: 'context' as const });
const evalRows = (rows: ExampleRow[]) => rows.filter((r) => r.split !== 'train').length;
const mrrCases = (rs: MetricRecord[]) => rs.filter((r) => r.metric === 'mrr').reduce((s, r) => s + r.count, 0);
const values = (rs: MetricRecord[]) => rs.map((r) => [r.method, r.split, r.metric, r.count, r.value]);

/** A checkpoint directory on disk whose evaluation uses an in-memory fake policy. */
function checkpointAt(dir: string, salt: number) {
  writeCheckpoint(dir, { kind: 'sasrec', method: 'bc', model: {}, step: 5, epoch: 1, seed: 0, position: null, rng: { seed: 0, step: 5, epoch: 1, batch: 0 } }, [
    { name: 'w', shape: [1], data: Float32Array.from([salt]) },
  ]);
  const policy = fakePolicy(N, { salt });
  return { policy, artifacts: new Map<string, unknown>([['checkpoints', [{ dir, method: 'bc', step: 5, epoch: 1, seed: 0, policy }]]]) };
}

async function evaluate(file: string, state: string | undefined, salt: number, ckDir: string) {
  const ck = checkpointAt(ckDir, salt);
  const res = await runStage(evaluateRankingStage, opts(state), await readParquetAll(file), ck.artifacts);
  return { ...res, calls: ck.policy.calls.score };
}

describe('evaluation state keys data by content', () => {
  it('a touched data file is not evaluated or counted again', async () => {
    const d = tmp('touch');
    const rows = randomExamples(120, N, 1);
    const file = writeExamples(path.join(d, 'part-0.parquet'), rows);
    const state = path.join(d, 'state.json');
    const first = await evaluate(file, state, 1, path.join(d, 'ck'));
    fs.utimesSync(file, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    const second = await evaluate(file, state, 1, path.join(d, 'ck'));
    expect(second.calls).toBe(0);
    expect(mrrCases(second.metrics)).toBe(evalRows(rows));
    expect(values(second.metrics)).toEqual(values(first.metrics));
  });

  it('identical data regenerated (deleted and written again) is not counted twice', async () => {
    const d = tmp('regen');
    const rows = randomExamples(120, N, 2);
    const file = writeExamples(path.join(d, 'part-0.parquet'), rows);
    const state = path.join(d, 'state.json');
    const first = await evaluate(file, state, 1, path.join(d, 'ck'));
    fs.rmSync(file);
    writeExamples(file, rows);
    const second = await evaluate(file, state, 1, path.join(d, 'ck'));
    expect(mrrCases(second.metrics)).toBe(evalRows(rows));
    expect(values(second.metrics)).toEqual(values(first.metrics));
  });

  it('a data file rewritten with other rows replaces its old numbers', async () => {
    const d = tmp('rewrite');
    const file = writeExamples(path.join(d, 'part-0.parquet'), randomExamples(120, N, 3));
    const state = path.join(d, 'state.json');
    await evaluate(file, state, 1, path.join(d, 'ck'));
    const now = randomExamples(90, N, 4);
    writeExamples(file, now);
    const second = await evaluate(file, state, 1, path.join(d, 'ck'));
    const fresh = await evaluate(file, undefined, 1, path.join(d, 'ck'));
    expect(mrrCases(second.metrics)).toBe(evalRows(now));
    expect(values(second.metrics)).toEqual(values(fresh.metrics));
  });

  it("datasetIdentity: a directory by its files' names and bytes, not their times", () => {
    const d = tmp('dsid');
    writeExamples(path.join(d, 'a', 'part-0.parquet'), randomExamples(30, N, 5));
    const before = datasetIdentity(path.join(d, 'a'));
    fs.utimesSync(path.join(d, 'a', 'part-0.parquet'), new Date(0), new Date(0));
    expect(datasetIdentity(path.join(d, 'a'))).toBe(before);
    writeExamples(path.join(d, 'a', 'part-0.parquet'), randomExamples(30, N, 6));
    expect(datasetIdentity(path.join(d, 'a'))).not.toBe(before);
  });
});

describe('evaluation state keys checkpoints by content', () => {
  it('a checkpoint overwritten in place is evaluated again and its old numbers are dropped', async () => {
    const d = tmp('ck-over');
    const rows = randomExamples(150, N, 7);
    const file = writeExamples(path.join(d, 'part-0.parquet'), rows);
    const state = path.join(d, 'state.json');
    const ck = path.join(d, 'ckpt', 'bc', 'step-5');
    const old = await evaluate(file, state, 1, ck);
    const again = await evaluate(file, state, 2, ck);
    expect(again.calls).toBeGreaterThan(0);
    const fresh = await evaluate(file, undefined, 2, ck);
    expect(values(again.metrics)).toEqual(values(fresh.metrics));
    expect(values(again.metrics)).not.toEqual(values(old.metrics));
    expect(mrrCases(again.metrics)).toBe(evalRows(rows));
    expect(
      EvaluationState.open(state, 'evaluate_ranking', { ks: [10, 50], splits: ['test', 'valid'], exclude_history: true, history: 'context' }).donePairs(),
    ).toHaveLength(1);
  });

  it('an unchanged checkpoint rewritten with the same weights is not evaluated again', async () => {
    const d = tmp('ck-same');
    const file = writeExamples(path.join(d, 'part-0.parquet'), randomExamples(100, N, 8));
    const state = path.join(d, 'state.json');
    const ck = path.join(d, 'ckpt', 'step-5');
    await evaluate(file, state, 3, ck);
    const again = await evaluate(file, state, 3, ck);
    expect(again.calls).toBe(0);
  });

  it('a state file of the path-keyed version is refused with what to do', () => {
    const f = path.join(tmp('v1'), 'state.json');
    fs.writeFileSync(f, JSON.stringify({ version: 1, kind: 'evaluate_ranking', options: {}, done: [], metrics: { version: 1, entries: [] } }));
    expect(() => EvaluationState.open(f, 'evaluate_ranking', {})).toThrow(ConfigError);
    expect(() => EvaluationState.open(f, 'evaluate_ranking', {})).toThrow(
      /written by an older recpost that keyed checkpoints and data by path; start a new state file/,
    );
  });
});

describe('merging evaluation states', () => {
  async function shards() {
    const d = tmp('merge');
    const a = writeExamples(path.join(d, 'data', 'part-a.parquet'), randomExamples(100, N, 9));
    const b = writeExamples(path.join(d, 'data', 'part-b.parquet'), randomExamples(80, N, 10));
    const ck = path.join(d, 'ckpt');
    await evaluate(a, path.join(d, 'sa.json'), 4, ck);
    await evaluate(b, path.join(d, 'sb.json'), 4, ck);
    const whole = await runStage(evaluateRankingStage, opts(), [...(await readParquetAll(a)), ...(await readParquetAll(b))], checkpointAt(ck, 4).artifacts);
    return { d, sa: path.join(d, 'sa.json'), sb: path.join(d, 'sb.json'), whole };
  }

  it('two shards merge into the evaluation of their union', async () => {
    const { d, sa, sb, whole } = await shards();
    const merged = mergeEvaluationStates([sa, sb], path.join(d, 'merged.json'));
    const got = merged.metrics.toRecords();
    expect(got.map((r) => [r.metric, r.count])).toEqual(whole.metrics.map((r) => [r.metric, r.count]));
    got.forEach((r, i) => expect(r.value).toBeCloseTo(whole.metrics[i]!.value, 12));
    expect(fs.existsSync(path.join(d, 'merged.json'))).toBe(true);
  });

  it('the same shard twice, or a copy of it, is refused', async () => {
    const { d, sa } = await shards();
    expect(() => mergeEvaluationStates([sa, sa], path.join(d, 'm1.json'))).toThrow(
      /sa\.json and .*sa\.json both hold .*part-a\.parquet .*merging them would count it twice/,
    );
    fs.copyFileSync(sa, path.join(d, 'copy.json'));
    expect(() => mergeEvaluationStates([sa, path.join(d, 'copy.json')], path.join(d, 'm2.json'))).toThrow(ConfigError);
    expect(fs.existsSync(path.join(d, 'm1.json'))).toBe(false);
  });
});

describe('stats-merge refuses a shard merged twice', () => {
  function shard(dir: string, name: string, values: number[]): string {
    const global = new RewardStats({ seed: 1 }).add(Float64Array.from(values));
    writeStatsFiles(path.join(dir, `${name}.json`), { column: 'reward', global });
    return statePathFor(path.join(dir, `${name}.json`));
  }

  it('stats-merge a a: exit 2, one line, nothing written', async () => {
    const d = tmp('stats');
    const a = shard(d, 'a', [1, 2, 3]);
    const r = await cliInProcess(['stats-merge', a, a, '--output', path.join(d, 'm.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^recpost: stats-merge: .*a\.state\.json is named twice/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(d, 'm.json'))).toBe(false);
  });

  it('a copy of a shard under another name is the same shard', () => {
    const d = tmp('stats-copy');
    const a = shard(d, 'a', [1, 2, 3]);
    fs.copyFileSync(a, path.join(d, 'copy.state.json'));
    expect(() => mergeStatsFiles([a, path.join(d, 'copy.state.json')], path.join(d, 'm.json'))).toThrow(
      /hold the same shard .*merging it twice would count its rows twice/,
    );
  });

  it('a merged file merged again with one of its parts is refused; disjoint shards merge', () => {
    const d = tmp('stats-merged');
    const a = shard(d, 'a', [1, 2, 3]);
    const b = shard(d, 'b', [4, 5]);
    const s = mergeStatsFiles([a, b], path.join(d, 'ab.json'));
    expect(s.count).toBe(5);
    expect(s.mean).toBeCloseTo(3, 12);
    expect(() => mergeStatsFiles([path.join(d, 'ab.json'), b], path.join(d, 'abb.json'))).toThrow(/hold the same shard/);
    const c = shard(d, 'c', [10]);
    expect(mergeStatsFiles([path.join(d, 'ab.json'), c], path.join(d, 'abc.json')).count).toBe(6);
  });
});
