/**
 * The engine options of `recpost run` (--workers, --shards, --shard-index,
 * --shard-count) and what they choose: one worker runs today's streaming
 * runner unchanged; more run the pipeline's plan (pipelines/plan/) on the
 * local engine; a shard index runs one static shard. Kept here so run.ts
 * only calls in (other options of `run` are added by other features).
 */
import * as os from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../../stages/core/config-schema.js';
import { integerOption } from '../args.js';
import { positiveIntegerOption } from '../sweep/cli-options.js';
import { engineChoiceFromFlags } from '../engine/redis-run-options.js';
import type { RunOptions, RunResult } from '../runner.js';
import type { ResolvedPipeline } from '../spec.js';

export interface EngineCliOptions {
  workers?: number;
  /** The cluster engine (pipelines/engine/redis-run-options.ts adds the flags). */
  redis?: string;
  queue?: string;
  shards?: number;
  shardIndex?: number;
  shardCount?: number;
  quiet?: boolean;
}

/**
 * Workers when --workers is not given: the number of cores. A pipeline whose
 * plan shards nothing still runs in this process (no worker starts), as with
 * --workers 1.
 */
export function defaultRunWorkers(): number {
  return Math.max(1, os.availableParallelism());
}

export function engineOptions(cmd: Command): Command {
  return cmd
    .option(
      '--workers <n>',
      'worker processes on this machine; 1 runs the pipeline in this process (default: the number of cores; a pipeline with nothing to shard runs in this process)',
      positiveIntegerOption('--workers'),
    )
    .option('--shards <n>', 'shards per sharded step (default: --workers)', atLeastOne('--shards'))
    .option(
      '--shard-index <i>',
      'static sharding: run shard i of the next sharded step, then exit (with --shard-count; finish with `recpost merge`)',
      integerOption('--shard-index'),
    )
    .option('--shard-count <n>', 'static sharding: how many shards every sharded step has', integerOption('--shard-count'));
}

function atLeastOne(flag: string): (value: string) => number {
  const parse = integerOption(flag);
  return (value) => {
    const n = parse(value);
    if (n < 1) throw new ConfigError(`${flag} must be at least 1, got ${n}`, [flag]);
    return n;
  };
}

/** Check the engine flags together (before the pipeline file is read): one line, exit 2, for a bad combination or value. */
export function checkEngineFlags(o: EngineCliOptions): void {
  if ((o.shardIndex === undefined) !== (o.shardCount === undefined))
    throw new ConfigError('--shard-index and --shard-count go together (static sharding: run shard I of N, then `recpost merge`)', ['shard-index']);
  if (o.shardIndex !== undefined && o.workers !== undefined)
    throw new ConfigError('--workers cannot be combined with --shard-index: a static shard runs in this process', ['workers']);
  const cluster = engineChoiceFromFlags(o);
  if (cluster && o.workers !== undefined)
    throw new ConfigError('--workers is for this machine; with --redis the workers are the `recpost worker`s', ['workers']);
}

/** Run as the engine options say. A static shard returns undefined (it prints its own line). */
export async function runWithEngineOptions(p: ResolvedPipeline, o: EngineCliOptions, run: RunOptions): Promise<RunResult | undefined> {
  if ((o.shardIndex === undefined) !== (o.shardCount === undefined))
    throw new ConfigError('--shard-index and --shard-count go together (static sharding: run shard I of N, then `recpost merge`)', ['shard-index']);
  if (o.shardIndex !== undefined) {
    if (o.workers !== undefined) throw new ConfigError('--workers cannot be combined with --shard-index: a static shard runs in this process', ['workers']);
    const { runStaticShard } = await import('../plan/static-shards.js');
    const r = await runStaticShard(p, { ...run, shardIndex: o.shardIndex, shardCount: o.shardCount! });
    if (!o.quiet)
      process.stderr.write(`shard ${r.shard}/${r.shardCount} of step ${r.step}: ${r.rows} rows; when all ${r.shardCount} are done, run \`recpost merge\`\n`);
    return undefined;
  }
  const workers = o.workers ?? defaultRunWorkers();
  if (!Number.isInteger(workers) || workers < 1) throw new ConfigError(`--workers must be a positive integer (got ${workers})`, ['workers']);
  if (o.shards !== undefined && (!Number.isInteger(o.shards) || o.shards < 1))
    throw new ConfigError(`--shards must be a positive integer (got ${o.shards})`, ['shards']);
  const cluster = engineChoiceFromFlags(o);
  if (cluster && o.workers !== undefined)
    throw new ConfigError('--workers is for this machine; with --redis the workers are the `recpost worker`s', ['workers']);
  const nothingToShard = async () => {
    const { compilePlan, shardsWork } = await import('../plan/compile.js');
    return !shardsWork(p, compilePlan(p, { ranges: true, buckets: true }));
  };
  if (!cluster && o.shards === undefined && (workers === 1 || (o.workers === undefined && (await nothingToShard())))) {
    const { runPipeline } = await import('../runner.js');
    return runPipeline(p, run);
  }
  const [{ openEngine }, { runPlanned }] = await Promise.all([import('../engine/open-engine.js'), import('../plan/plan-runner.js')]);
  const engine = await openEngine(cluster ?? { workers });
  try {
    const slots = cluster ? engine.slots : workers;
    const record = { ...run.record, engine: { kind: engine.kind, workers: slots, shards: o.shards ?? slots } };
    return await runPlanned(p, { ...run, record, engine, ...(o.shards !== undefined ? { shards: o.shards } : {}) });
  } finally {
    await engine.close();
  }
}
