/**
 * Evaluation per checkpoint × data partition (`checkpoint_parts` plans,
 * issue 10): a step whose first stage is an evaluation stage with
 * `checkpoints` and `state` options (evaluate_ranking, evaluate_reward_model,
 * evaluate_judge, evaluate_proxy_gold) runs its (checkpoint, data partition)
 * pairs as shards. A shard reads the step's whole input (the users' histories,
 * the train rows and the first max_contexts rows in stream order need every
 * row) but evaluates only its pairs: one checkpoint on a group of consecutive
 * partitions, handed to it as a scope (stages/eval/eval-shard.ts), with no
 * baselines, committing its pairs to its own evaluation state file. The step
 * then runs whole in the coordinator, as in one process, with the shards'
 * state files as ready results: each pair is committed from there where one
 * process would evaluate it, so the pairs are summed in one process's order
 * (its target order, proxy_gold's series too, then partition order) and the
 * records are exactly one process's. The baselines are computed there.
 *
 * A partition is what the stages key pairs by: a data file of the input,
 * by content (eval-rows.ts), or the single partition `stream` of a stream read
 * back from an intermediate dataset (no per-file facts). Each checkpoint gets
 * ⌈shards / checkpoints⌉ groups of partitions (at most one per partition), so
 * that the step has about as many shards as the engine has slots: every shard
 * reads the whole input, and more shards than slots would read it more often
 * for no gain; with `shards` ≥ checkpoints × partitions, one pair per shard.
 *
 * A retried or duplicated shard resumes from its own state file and adds
 * nothing; the coordinator takes from each file only the pairs of that
 * shard's scope. Runs whole instead (as one process would) when the pipeline
 * gives the stage its own `state` file, when there is no input or fewer than
 * two pairs, when a published checkpoint exists only in memory, or when an
 * artifact the shards need (a simulator world) is not plain data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACT } from '../../stages/core/artifacts.js';
import type { ShardPlan } from '../../stages/core/stage.js';
import type { ResolvedStage } from '../spec.js';
import type { DatasetPart } from '../../stages/io/manifest-read.js';
import { listAnyDataset } from '../../stages/io/object-store/any-dataset.js';
import { checkpointId, resolveCheckpoints, type CheckpointRef } from '../../stages/eval/checkpoints.js';
import { partPartition } from '../../stages/eval/eval-rows.js';
import type { PairScope } from '../../stages/eval/eval-state.js';
import type { EvaluationShard } from '../../stages/eval/eval-shard.js';
import { encodeJsonValue } from './json-numbers.js';
import { SHARD_TASK_KIND, shardDirName, type ShardTaskInput } from './shard-task.js';
import type { PlanCoordinator, ShardEngine, StepInput } from './plan-runner.js';
import type { WholeStep } from './compile.js';

/** Whether a stage can be evaluated per checkpoint × partition this way (it has the options the shards use). */
export function checkpointShardable(rs: ResolvedStage): boolean {
  return ['checkpoints', 'state'].every((f) => f in rs.def.fields);
}

/** The published fields of a checkpoint reference a shard can load (no in-memory policy). */
function plainRef(r: CheckpointRef): Omit<CheckpointRef, 'policy'> {
  return {
    dir: r.dir,
    ...(r.method !== undefined ? { method: r.method } : {}),
    ...(r.step !== undefined ? { step: r.step } : {}),
    ...(r.epoch !== undefined ? { epoch: r.epoch } : {}),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
  };
}

/** Whether a value reaches a shard as itself through JSON: plain data, no functions or class instances (a world object). */
export function plainData(v: unknown): boolean {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every(plainData);
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v as Record<string, unknown>).every((x) => x === undefined || plainData(x));
}

/** Values in first-occurrence order. */
function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * The partition ids the stage will see in the step's input, in the order it
 * meets them, or undefined for the single partition of a stream read back
 * without per-file facts. Files with identical bytes are one partition there.
 * With `splits` (the stage's evaluated splits), a part of a dataset written
 * with `partition_by: split` whose `split=<name>` directory is not one of them
 * is left out: it holds no evaluation rows, so a shard given only such parts
 * would read the input for nothing.
 */
export function inputPartitions(input: StepInput, parts: readonly DatasetPart[], splits?: readonly string[]): string[] | undefined {
  if (input.intermediate) return undefined;
  const evaluated = (file: string) => {
    const m = /(?:^|[/\\])split=([^/\\]+)[/\\]/.exec(file);
    return !splits || !m || splits.includes(m[1]!);
  };
  return unique(parts.filter((p) => evaluated(p.file)).map((p) => partPartition(p.file, p.sha256).id));
}

/** `ids` in `count` groups of consecutive ids, sizes differing by at most one, none empty. */
export function partitionGroups(ids: string[], count: number): string[][] {
  const k = Math.max(1, Math.min(count, ids.length));
  return Array.from({ length: k }, (_v, i) => ids.slice(Math.floor((i * ids.length) / k), Math.floor(((i + 1) * ids.length) / k)));
}

/** Run a step whose first stage evaluates per checkpoint × partition; returns what runWholeStep returns. */
export async function runCheckpointStep(
  c: PlanCoordinator,
  engine: ShardEngine,
  step: WholeStep,
  input: StepInput | undefined,
): Promise<StepInput | undefined> {
  const rs = step.stages[0]!;
  if (!input || rs.config.state !== undefined || !checkpointShardable(rs)) return c.runWholeStep(step, input);
  const option = rs.config.checkpoints as string[] | undefined;
  const refs = resolveCheckpoints(option, c.ctxFor(rs), rs.def.name);
  if (refs.some((r) => r.policy !== undefined)) return c.runWholeStep(step, input);
  // Artifacts the stage reads (a world directory, the vocabulary), as the coordinator holds them; the checkpoints every shard resolves alike.
  const shipped: Record<string, unknown> = {};
  const plan: ShardPlan | undefined = typeof rs.def.shard === 'function' ? rs.def.shard(rs.config) : rs.def.shard;
  for (const key of plan?.artifacts ?? []) {
    if (!c.artifacts.has(key)) continue;
    const value = c.artifacts.get(key as never) as unknown;
    if (!plainData(value)) return c.runWholeStep(step, input);
    shipped[key] = value;
  }
  if (option === undefined) shipped[ARTIFACT.checkpoints] = refs.map(plainRef);
  // By content, as the evaluation state keys them: a checkpoint listed twice is evaluated once, as in one process.
  const targets = unique(refs.map((r) => checkpointId(r.dir)));
  const parts = (await listAnyDataset(input.dataset)).parts;
  const partitions = inputPartitions(input, parts, Array.isArray(rs.config.splits) ? (rs.config.splits as string[]) : undefined);
  if (targets.length * (partitions?.length ?? 1) < 2) return c.runWholeStep(step, input);

  const shardCount = c.opts.shards ?? engine.slots;
  const groups: (string[] | undefined)[] = partitions ? partitionGroups(partitions, Math.ceil(shardCount / targets.length)) : [undefined];
  const stepDir = c.stepDir(step);
  const scopes: PairScope[] = targets.flatMap((target) => groups.map((g) => ({ targets: [target], ...(g ? { partitions: g } : {}) })));
  const tasks = scopes.map((scope, shard) => {
    const dir = path.join(stepDir, shardDirName(shard));
    const config: Record<string, unknown> = {
      ...rs.config,
      state: path.join(dir, 'state.json'),
      ...('baselines' in rs.def.fields ? { baselines: [] } : {}),
      // Workers already take the cores: one thread each (the ranks do not depend on it).
      ...('threads' in rs.def.fields ? { threads: 1 } : {}),
    };
    const only: EvaluationShard = { stage: rs.def.name, only: scope };
    const taskInput: ShardTaskInput = {
      step: step.id,
      shard,
      shardCount: scopes.length,
      dir,
      outDir: c.outDir,
      runId: c.p.name,
      seed: c.p.seed,
      stages: [{ index: rs.index, id: rs.id, name: rs.def.name, config, combine: false }],
      input: {
        dataset: input.dataset,
        parts,
        ...(input.table ? { table: input.table } : {}),
        ...(input.columns ? { columns: input.columns } : {}),
        ...(input.intermediate ? { stripMeta: true } : {}),
      },
      artifacts: encodeJsonValue({ ...shipped, [ARTIFACT.evaluationShard]: only }) as Record<string, unknown>,
      quiet: true,
    };
    return { kind: SHARD_TASK_KIND, key: `${step.id}/${shardDirName(shard)}`, input: taskInput };
  });
  await engine.runFlow({ label: `${step.id} checkpoints`, children: tasks });
  // The shards' own records are not used: the coordinator's stage commits their pairs and emits the records.
  // A shard that committed no pair (no evaluation rows in its partitions, no reward head) left no file.
  const results = tasks.map((t, k) => ({ file: t.input.stages[0]!.config.state as string, scope: scopes[k]! })).filter((r) => fs.existsSync(r.file));
  const handed: EvaluationShard = { stage: rs.def.name, results };
  c.artifacts.set(ARTIFACT.evaluationShard, handed);
  try {
    return await c.runWholeStep(step, input);
  } finally {
    // Taken by the stage when it was created; removed here too in case it never was.
    c.artifacts.delete(ARTIFACT.evaluationShard);
  }
}
