/**
 * What a sharded evaluation (pipelines/plan/checkpoint-step.ts) hands the one
 * evaluation stage it runs, through the artifact ARTIFACT.evaluationShard.
 * It is not a stage option (a user never sets it and it is no part of the
 * pipeline's configuration): the plan runner sets it just before the stage is
 * created, and the stage takes it (reads and removes it) in `create`, so no
 * later stage sees it.
 *
 * - `only`, in a shard: evaluate only these checkpoints on these data
 *   partitions (both by content id, as the evaluation state keys them). The
 *   stage still reads its whole input (the users' histories, the first
 *   max_contexts rows in stream order) but keeps only its partitions'
 *   evaluation rows, and commits only its pairs to its own state file.
 * - `results`, in the coordinator: each shard's state file with the pairs it
 *   was given. The stage runs as in one process, but a pair found there is
 *   committed from there instead of evaluated, at the point where one process
 *   would evaluate it: the pairs are committed, and their totals summed, in
 *   the order of one process, whichever shard made each of them.
 */
import { ARTIFACT } from '../core/artifacts.js';
import type { StageContext } from '../core/stage.js';
import type { EvaluationState, PairScope } from './eval-state.js';

export interface EvaluationShard {
  /** The stage it is meant for (a check: the plan runner hands it to that stage only). */
  stage: string;
  only?: PairScope;
  results?: { file: string; scope: PairScope }[];
}

/** Take (read and remove) the sharded evaluation the plan runner handed this stage, if any. */
export function takeEvaluationShard(ctx: Pick<StageContext, 'artifacts'>, stage: string): EvaluationShard | undefined {
  const shard = ctx.artifacts.get(ARTIFACT.evaluationShard);
  if (shard === undefined) return undefined;
  ctx.artifacts.delete(ARTIFACT.evaluationShard);
  if (shard.stage !== stage) throw new Error(`${stage}: the sharded evaluation handed to this stage is for "${shard.stage}"`);
  return shard;
}

/** Narrow a stage's freshly opened state to the shard's pairs, or give it the shards' results. */
export function applyEvaluationShard(state: EvaluationState, shard: EvaluationShard | undefined): void {
  if (shard?.only) state.restrict(shard.only);
  for (const r of shard?.results ?? []) state.adoptResults(r.file, r.scope);
}
