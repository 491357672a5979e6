/**
 * Evaluation per checkpoint (`checkpoint_parts` plans, issue 10): a step
 * whose first stage is an evaluation stage with `checkpoints`, `baselines`
 * and `state` options (evaluate_ranking) runs each checkpoint as a shard:
 * the shard reads the step's whole input (the history index and the
 * evaluation rows need every row) and evaluates its one checkpoint with no
 * baselines, committing its (checkpoint, data partition) pairs to its own
 * evaluation state file. The shards' state files are merged in checkpoint
 * order (mergeEvaluationStates: the pairs in the order one process commits
 * them, so the totals are the same sums), and the step then runs whole in the
 * coordinator with that merged state: every pair is found done, the
 * baselines are computed there, and the stage emits its records and batch
 * exactly as one process does. A retried shard resumes from its own state
 * file, so a duplicated delivery adds nothing.
 *
 * Runs whole instead (as one process would) when the pipeline gives the
 * stage its own `state` file, when there is no input or fewer than two
 * checkpoints, or when a published checkpoint exists only in memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACT } from '../../stages/core/artifacts.js';
import type { ResolvedStage } from '../spec.js';
import { listAnyDataset } from '../../stages/io/object-store/any-dataset.js';
import { resolveCheckpoints, type CheckpointRef } from '../../stages/eval/checkpoints.js';
import { mergeEvaluationStates } from '../../stages/eval/eval-state.js';
import { encodeJsonValue } from './json-numbers.js';
import { SHARD_TASK_KIND, shardDirName, type ShardTaskInput } from './shard-task.js';
import type { PlanCoordinator, ShardEngine, StepInput } from './plan-runner.js';
import type { WholeStep } from './compile.js';

/** Whether a stage can be evaluated per checkpoint this way (it has the options the shards use). */
export function checkpointShardable(rs: ResolvedStage): boolean {
  return ['checkpoints', 'baselines', 'state'].every((f) => f in rs.def.fields);
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

/** Run a step whose first stage evaluates per checkpoint; returns what runWholeStep returns. */
export async function runCheckpointStep(
  c: PlanCoordinator,
  engine: ShardEngine,
  step: WholeStep,
  input: StepInput | undefined,
): Promise<StepInput | undefined> {
  const rs = step.stages[0]!;
  const option = rs.config.checkpoints as string[] | undefined;
  const refs = input && rs.config.state === undefined && checkpointShardable(rs) ? resolveCheckpoints(option, c.ctxFor(rs), rs.def.name) : [];
  if (refs.length < 2 || refs.some((r) => r.policy !== undefined)) return c.runWholeStep(step, input);
  const stepDir = c.stepDir(step);
  const parts = (await listAnyDataset(input!.dataset)).parts;
  const tasks = refs.map((ref, shard) => {
    const dir = path.join(stepDir, shardDirName(shard));
    const config: Record<string, unknown> = {
      ...rs.config,
      baselines: [],
      state: path.join(dir, 'state.json'),
      // Workers already take the cores: one thread each (the ranks do not depend on it).
      ...('threads' in rs.def.fields ? { threads: 1 } : {}),
      ...(option !== undefined ? { checkpoints: [ref.dir] } : {}),
    };
    const taskInput: ShardTaskInput = {
      step: step.id,
      shard,
      shardCount: refs.length,
      dir,
      outDir: c.outDir,
      runId: c.p.name,
      seed: c.p.seed,
      stages: [{ index: rs.index, id: rs.id, name: rs.def.name, config, combine: false }],
      input: {
        dataset: input!.dataset,
        parts,
        ...(input!.table ? { table: input!.table } : {}),
        ...(input!.columns ? { columns: input!.columns } : {}),
        ...(input!.intermediate ? { stripMeta: true } : {}),
      },
      artifacts: encodeJsonValue(option === undefined ? { [ARTIFACT.checkpoints]: [plainRef(ref)] } : {}) as Record<string, unknown>,
      quiet: true,
    };
    return { kind: SHARD_TASK_KIND, key: `${step.id}/${shardDirName(shard)}`, input: taskInput };
  });
  await engine.runFlow({ label: `${step.id} checkpoints`, children: tasks });
  // The shards' own records are not used: the coordinator's stage emits them from the merged state.
  // A shard that committed no pair (no evaluation rows) left no file: then there is nothing to merge.
  const files = tasks.map((t) => t.input.stages[0]!.config.state as string).filter((f) => fs.existsSync(f));
  if (files.length === 0) return c.runWholeStep(step, input);
  const merged = path.join(stepDir, 'state.json');
  fs.rmSync(merged, { force: true });
  mergeEvaluationStates(files, merged);
  return c.runWholeStep({ ...step, stages: [{ ...rs, config: { ...rs.config, state: merged } }, ...step.stages.slice(1)] }, input);
}
