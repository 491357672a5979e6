/**
 * The pieces a sharded evaluation adds to the evaluation stages
 * (stages/eval/eval-shard.ts): a state narrowed to a shard's pairs, the
 * shards' pairs taken as ready results (only their own, from the same stage
 * and options, each once), the row collector keeping only its partitions'
 * rows while counting the others against max_contexts, and the handed-over
 * scope taken once, by the stage it is for.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EvaluationState } from '../../stages/eval/eval-state.js';
import { MetricAccumulator } from '../../stages/eval/accumulator.js';
import { EvalRowCollector } from '../../stages/eval/eval-rows.js';
import { takeEvaluationShard } from '../../stages/eval/eval-shard.js';
import { ARTIFACT, ArtifactMap } from '../../stages/core/artifacts.js';
import type { Batch } from '../../stages/core/batch.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-eval-shard-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const acc = (v: number) => new MetricAccumulator().add({ run: 'r', method: 'm', seed: 0, step: 0, epoch: 0, split: 'test', metric: 'x' }, v);

/** A state file of `kind` holding the given (target, partition, value) pairs. */
function stateFile(name: string, pairs: [string, string, number][], kind = 'evaluate_ranking', options: Record<string, unknown> = { ks: [5] }): string {
  const file = path.join(dir, name);
  const s = EvaluationState.open(file, kind, options);
  for (const [t, p, v] of pairs) s.commit(t, p, 1, acc(v));
  return file;
}

describe('a state narrowed to a shard, and the shards’ results', () => {
  it('restrict: only the scope’s pairs are pending, and done ones never', () => {
    const s = EvaluationState.memory('evaluate_ranking');
    s.commit('t1', 'p1', 1, acc(1));
    s.restrict({ targets: ['t1'], partitions: ['p1', 'p2'] });
    expect([s.pending('t1', 'p1'), s.pending('t1', 'p2'), s.pending('t1', 'p3'), s.pending('t2', 'p2')]).toEqual([false, true, false, false]);
    s.restrict({ targets: ['t2'] });
    expect([s.pending('t2', 'p1'), s.pending('t2', 'p9'), s.pending('t1', 'p2')]).toEqual([true, true, false]);
  });

  it('adoptResults: a shard’s own pairs become ready (others in its file are not taken); a pair from two shards is refused', () => {
    const a = stateFile('a.json', [
      ['t1', 'p1', 2],
      ['t9', 'p1', 7],
    ]);
    const b = stateFile('b.json', [['t1', 'p2', 3]]);
    const s = EvaluationState.open(undefined, 'evaluate_ranking', { ks: [5] });
    s.adoptResults(a, { targets: ['t1'], partitions: ['p1'] });
    s.adoptResults(b, { targets: ['t1'], partitions: ['p2'] });
    expect(s.readyMetrics('t1', 'p1')?.toJSON()).toEqual(acc(2).toJSON());
    expect(s.readyMetrics('t1', 'p2')?.toJSON()).toEqual(acc(3).toJSON());
    expect(s.readyMetrics('t9', 'p1')).toBeUndefined();
    expect([s.needsEvaluation('t1', 'p1'), s.needsEvaluation('t9', 'p1'), s.pending('t1', 'p1')]).toEqual([false, true, true]);
    expect(() => s.adoptResults(a, { targets: ['t1'] })).toThrow(`evaluation shard state ${a}: the pair t1 on p1 came from two shards`);
  });

  it('adoptResults refuses a file of another stage or other options', () => {
    const other = stateFile('judge.json', [['t1', 'p1', 1]], 'evaluate_judge');
    const ks = stateFile('ks.json', [['t1', 'p1', 1]], 'evaluate_ranking', { ks: [10] });
    const s = EvaluationState.open(undefined, 'evaluate_ranking', { ks: [5] });
    expect(() => s.adoptResults(other, { targets: ['t1'] })).toThrow(`evaluation shard state ${other} was written by "evaluate_judge", not "evaluate_ranking"`);
    expect(() => s.adoptResults(ks, { targets: ['t1'] })).toThrow(`evaluation shard state ${ks} was made with other options (ks: file has [10], now [5])`);
  });
});

describe('the row collector of a shard', () => {
  /** Two evaluation rows (split test = 2) and one train row of partition `p`, actions `a`, `a + 1`, `a + 2`. */
  const batch = (p: string, a: number): Batch => ({
    table: 'examples',
    numRows: 3,
    columns: { split: Int8Array.from([2, 0, 2]), action: Int32Array.from([a, a + 1, a + 2]) },
    meta: { partition: p },
  });
  const collect = (keep?: string[]) => {
    const trainActions: number[] = [];
    const c = new EvalRowCollector({
      splits: [2],
      columns: ['action'],
      maxRows: 5,
      onTrain: (b, idx) => idx.forEach((i) => trainActions.push((b.columns.action as Int32Array)[i]!)),
      ...(keep ? { keepPartitions: keep } : {}),
    });
    for (const b of [batch('a', 10), batch('b', 20), batch('a', 30), batch('b', 40)]) c.add(b);
    return { c, trainActions };
  };

  it('keeps only its partitions’ rows, counting the others against maxRows as one process does', () => {
    const whole = collect();
    const shard = collect(['partition:b']);
    const rows = (c: EvalRowCollector) => c.partitions().map((p) => [p.id, Array.from(p.rows.columns.action as Int32Array)]);
    // One process keeps the first 5 evaluation rows: a 10 12, b 20 22, a 30.
    expect(rows(whole.c)).toEqual([
      ['partition:a', [10, 12, 30]],
      ['partition:b', [20, 22]],
    ]);
    expect(rows(shard.c)).toEqual([['partition:b', [20, 22]]]);
    expect(shard.c.evalRows).toBe(whole.c.evalRows);
    // Train rows of every partition still reach the callback (popularity, reward means).
    expect(shard.trainActions).toEqual([11, 21, 31, 41]);
    expect(shard.c.maxItemId).toBe(whole.c.maxItemId);
  });
});

describe('the handed-over scope', () => {
  it('is taken once, by the stage it is for', () => {
    const artifacts = new ArtifactMap();
    artifacts.set(ARTIFACT.evaluationShard, { stage: 'evaluate_judge', only: { targets: ['t'] } });
    expect(() => takeEvaluationShard({ artifacts }, 'evaluate_ranking')).toThrow(
      'evaluate_ranking: the sharded evaluation handed to this stage is for "evaluate_judge"',
    );
    artifacts.set(ARTIFACT.evaluationShard, { stage: 'evaluate_judge', only: { targets: ['t'] } });
    expect(takeEvaluationShard({ artifacts }, 'evaluate_judge')).toEqual({ stage: 'evaluate_judge', only: { targets: ['t'] } });
    expect(takeEvaluationShard({ artifacts }, 'evaluate_judge')).toBeUndefined();
  });
});
