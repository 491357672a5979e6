/**
 * Evaluation sharded per checkpoint × data partition (issue 10 item 1): the
 * four evaluation stages over a multi-part examples dataset and 3
 * checkpoints, one pair per shard on 2 local workers, give one process's
 * metric records exactly, and every pair's accumulator (the shards' state
 * files) equals the one one process commits; a shard delivered twice changes
 * nothing; a worker killed with SIGKILL mid-shard is recovered with the same
 * records; one checkpoint over several parts is sharded too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type RunResult } from '../../pipelines/runner.js';
import { runPlanned, type ShardEngine } from '../../pipelines/plan/plan-runner.js';
import { partitionGroups } from '../../pipelines/plan/checkpoint-step.js';
import { stepsDir } from '../../pipelines/plan/compile.js';
import { resolvePipeline, type ResolvedPipeline } from '../../pipelines/spec.js';
import { LocalEngine } from '../../pipelines/engine/local-engine.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { readDonePairs } from '../../stages/eval/eval-state.js';
import { findCheckpoints } from '../../stages/eval/find-checkpoints.js';
import { checkpointShardsTwice, killingEngine, readJson } from './helpers.js';

type Evaluator = 'evaluate_ranking' | 'evaluate_reward_model' | 'evaluate_judge' | 'evaluate_proxy_gold';
const ALL: Evaluator[] = ['evaluate_ranking', 'evaluate_reward_model', 'evaluate_judge', 'evaluate_proxy_gold'];

let dir: string;
let engine: LocalEngine;
const setupDir = () => path.join(dir, 'setup');
const examples = () => path.join(setupDir(), 'examples');
const checkpointsDir = () => path.join(setupDir(), 'checkpoints', 'bc');

/** A small ratings world, its log split into examples written as several parts, and 3 BC checkpoints with a reward head. */
function setupPipeline(): ResolvedPipeline {
  const out = setupDir();
  return resolvePipeline(
    {
      name: 'eval-pairs-setup',
      out_dir: out,
      seed: 5,
      stages: [
        {
          stage: 'simulate_ratings',
          with: { preset: 'small', num_users: 40, num_items: 40, ratings_per_user_min: 8, ratings_per_user_max: 14, output: path.join(out, 'sim') },
        },
        { stage: 'ingest', with: { path: path.join(out, 'sim', 'ratings.dat'), output: path.join(out, 'interactions'), threads: 1 } },
        { stage: 'split_sequences', with: { max_len: 5, threshold: 4, apply_threshold: false, batch_size: 100 } },
        { stage: 'write_parquet', with: { path: examples(), rows_per_file: 110 } },
        {
          stage: 'train_sasrec',
          with: {
            method: 'bc',
            objective: { name: 'bc' },
            epochs: 3,
            batch_size: 128,
            max_len: 5,
            d: 8,
            blocks: 1,
            heads: 1,
            reward_hidden: 8,
            backend: 'wasm',
          },
        },
      ],
    },
    'eval-pairs-setup.yaml',
  );
}

/** Each evaluator reads the examples again and evaluates `checkpoints` (with `state`: one state file per stage under `stateDir`). */
function evalPipeline(outDir: string, evaluators: Evaluator[], checkpoints: string[], stateDir?: string): ResolvedPipeline {
  const world = path.join(setupDir(), 'sim', 'truth');
  const vocab = path.join(setupDir(), 'interactions', 'vocab');
  const options: Record<Evaluator, Record<string, unknown>> = {
    evaluate_ranking: { ks: [5, 10], batch_rows: 16 },
    evaluate_reward_model: { splits: ['test', 'valid'] },
    // Fewer contexts than test rows: the later parts hold none, and a shard keeps its part's rows among the first 25 in stream order.
    evaluate_judge: { world, vocab, samples: 2, max_contexts: 25, batch_rows: 8 },
    evaluate_proxy_gold: { world, vocab, samples: 2, max_contexts: 30, batch_rows: 8 },
  };
  return resolvePipeline(
    {
      name: 'eval-pairs',
      out_dir: outDir,
      seed: 5,
      stages: evaluators.flatMap((e) => [
        { stage: 'read_parquet', with: { path: examples(), table: 'examples' } },
        { stage: e, with: { ...options[e], checkpoints, ...(stateDir ? { state: path.join(stateDir, `${e}.json`) } : {}) } },
      ]),
    },
    'eval-pairs.yaml',
  );
}

// Every record but timings.
const metricLines = (ms: { metric: string }[]) => ms.filter((m) => !/_per_s(econd)?$/.test(m.metric)).map((m) => JSON.stringify(m));

/** An engine that records each checkpoint flow's shard count as it passes it on. */
function counting(inner: ShardEngine = engine): { engine: ShardEngine; shards: number[] } {
  const shards: number[] = [];
  return {
    shards,
    engine: {
      kind: 'local',
      slots: 2,
      runFlow(flow, onProgress) {
        if (flow.label.endsWith(' checkpoints')) shards.push(flow.children.length);
        return inner.runFlow(flow, onProgress);
      },
    },
  };
}

/** (checkpoint, partition) → that pair's accumulator as JSON, from state files. */
function pairMetrics(files: string[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const f of files) for (const p of readDonePairs(f)) m.set(`${p.target} ${p.partition}`, p.metrics.toJSON());
  return m;
}

let parts: number;
let one: RunResult;
const oneState = () => path.join(dir, 'one-state');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-eval-pairs-'));
  engine = new LocalEngine(2);
  await runPipeline(setupPipeline(), { logger: memoryLogger(), quiet: true });
  parts = (readJson(path.join(examples(), '_manifest.json')) as { files: unknown[] }).files.length;
  // One process, with a state file per stage (it changes no record) so that each pair's accumulator can be compared.
  one = await runPipeline(evalPipeline(path.join(dir, 'one'), ALL, [checkpointsDir()], oneState()), { logger: memoryLogger(), quiet: true });
}, 120_000);
afterAll(async () => {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('evaluation per checkpoint × data partition', { timeout: 120_000 }, () => {
  it('groups partitions into consecutive runs of near-equal size', () => {
    expect(partitionGroups(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    expect(partitionGroups(['a', 'b'], 5)).toEqual([['a'], ['b']]);
    expect(partitionGroups(['a', 'b', 'c'], 1)).toEqual([['a', 'b', 'c']]);
  });

  it('every stage, one pair per shard on 2 workers: one process’s records and per-pair accumulators, exactly', async () => {
    expect(findCheckpoints(checkpointsDir()).length).toBe(3);
    expect(parts).toBeGreaterThanOrEqual(3);
    const runDir = path.join(dir, 'pairs');
    const c = counting();
    const r = await runPlanned(evalPipeline(runDir, ALL, [checkpointsDir()]), {
      engine: c.engine,
      shards: 3 * parts,
      keepSteps: true,
      logger: memoryLogger(),
      quiet: true,
    });
    expect(c.shards).toEqual([3 * parts, 3 * parts, 3 * parts, 3 * parts]);
    for (const metric of ['ndcg@10', 'reward_mse', 'avg_reward', 'true_reward_top1', 'gold_reward', 'kl_to_init'])
      expect(one.metrics.some((m) => m.metric === metric && m.method === 'bc')).toBe(true);
    expect(metricLines(r.metrics)).toEqual(metricLines(one.metrics));

    // Each shard's state holds its pair, with the very accumulator one process committed for it.
    const steps = fs.readdirSync(stepsDir(runDir));
    for (const e of ALL) {
      const stepDir = steps.find((s) => s.includes(`-${e}-`))!;
      const shardFiles = fs
        .readdirSync(path.join(stepsDir(runDir), stepDir))
        .map((s) => path.join(stepsDir(runDir), stepDir, s, 'state.json'))
        .filter((f) => fs.existsSync(f));
      const sharded = pairMetrics(shardFiles);
      const whole = pairMetrics([path.join(oneState(), `${e}.json`)]);
      expect(sharded.size, e).toBe(whole.size);
      expect(Object.fromEntries(sharded), e).toEqual(Object.fromEntries(whole));
      // The sampling evaluators' first 25 / 30 contexts lie in more than one part but not in the last: shards of the later parts commit no pair.
      if (e === 'evaluate_judge' || e === 'evaluate_proxy_gold') {
        expect(whole.size, e).toBeLessThan(3 * parts);
        expect(whole.size, e).toBeGreaterThan(3);
      } else expect(whole.size, e).toBe(3 * parts);
    }
  });

  it('the coordinator commits the pairs the shards made; it does not evaluate them again', async () => {
    // After the shards: every accumulator entry in their state files set to sum = count (a mean of exactly 1).
    const tampering: ShardEngine = {
      kind: 'local',
      slots: 2,
      async runFlow(flow, onProgress) {
        const results = await engine.runFlow(flow, onProgress);
        if (!flow.label.endsWith(' checkpoints')) return results;
        for (const child of flow.children) {
          const file = path.join((child.input as { dir: string }).dir, 'state.json');
          const state = readJson(file) as { done: { metrics: { entries: unknown[][] } }[] };
          for (const pair of state.done) for (const e of pair.metrics.entries) [e[7], e[8]] = [e[9], e[9]];
          fs.writeFileSync(file, JSON.stringify(state));
        }
        return results;
      },
    };
    const r = await runPlanned(evalPipeline(path.join(dir, 'tampered'), ['evaluate_ranking'], [checkpointsDir()]), {
      engine: tampering,
      shards: 3 * parts,
      logger: memoryLogger(),
      quiet: true,
    });
    const ranked = r.metrics.filter((m) => /^(ndcg|hr)@|^mrr$/.test(m.metric));
    expect(ranked.filter((m) => m.method === 'bc').length).toBe(2 * 5 * 3); // (ndcg, hr) × 2 ks + mrr, 2 splits, 3 checkpoints
    for (const m of ranked) expect(m.value === 1).toBe(m.method === 'bc');
  });

  it('a stage given its own state file runs whole, as in one process', async () => {
    const pipeline = (out: string) => evalPipeline(path.join(dir, out), ['evaluate_ranking'], [checkpointsDir()], path.join(dir, out, 'state'));
    const a = await runPipeline(pipeline('own-state-one'), { logger: memoryLogger(), quiet: true });
    const c = counting();
    const r = await runPlanned(pipeline('own-state-two'), { engine: c.engine, shards: 3 * parts, logger: memoryLogger(), quiet: true });
    expect(c.shards).toEqual([]);
    expect(metricLines(r.metrics)).toEqual(metricLines(a.metrics));
    expect(pairMetrics([path.join(dir, 'own-state-two', 'state', 'evaluate_ranking.json')]).size).toBe(3 * parts);
  });

  it('a shard delivered twice, the copies running at once, changes nothing', async () => {
    const twice = checkpointShardsTwice(engine);
    const r = await runPlanned(evalPipeline(path.join(dir, 'twice'), ['evaluate_ranking', 'evaluate_judge'], [checkpointsDir()]), {
      engine: twice,
      shards: 3 * parts,
      logger: memoryLogger(),
      quiet: true,
    });
    const a = await runPipeline(evalPipeline(path.join(dir, 'twice-one'), ['evaluate_ranking', 'evaluate_judge'], [checkpointsDir()]), {
      logger: memoryLogger(),
      quiet: true,
    });
    expect(metricLines(r.metrics)).toEqual(metricLines(a.metrics));
  });

  it('a worker killed with SIGKILL mid-shard: the shard runs again and the records are unchanged', async () => {
    const pipeline = (out: string) => evalPipeline(path.join(dir, out), ['evaluate_ranking'], [checkpointsDir()]);
    const a = await runPipeline(pipeline('kill-one'), { logger: memoryLogger(), quiet: true });
    const { engine: killing, seen } = killingEngine(engine, (label) => label.endsWith(' checkpoints'), 5000, 1);
    const r = await runPlanned(pipeline('killed'), { engine: killing, shards: 3 * parts, logger: memoryLogger(), quiet: true });
    expect(seen.killed).toHaveLength(1);
    expect(seen.retries).toBe(1);
    expect(metricLines(r.metrics)).toEqual(metricLines(a.metrics));
  });

  it('one checkpoint over several parts is sharded per partition group, with one process’s records', async () => {
    const single = [findCheckpoints(checkpointsDir())[1]!.dir];
    const pipeline = (out: string) => evalPipeline(path.join(dir, out), ['evaluate_ranking', 'evaluate_reward_model'], single);
    const a = await runPipeline(pipeline('single-one'), { logger: memoryLogger(), quiet: true });
    // The default: as many shards as slots (2), each a group of consecutive partitions.
    const byDefault = counting();
    const r = await runPlanned(pipeline('single-two'), { engine: byDefault.engine, logger: memoryLogger(), quiet: true });
    expect(byDefault.shards).toEqual([2, 2]);
    expect(metricLines(r.metrics)).toEqual(metricLines(a.metrics));
    // One shard per partition.
    const perPart = counting();
    const s = await runPlanned(pipeline('single-parts'), { engine: perPart.engine, shards: parts, logger: memoryLogger(), quiet: true });
    expect(perPart.shards).toEqual([parts, parts]);
    expect(metricLines(s.metrics)).toEqual(metricLines(a.metrics));
  });
});
