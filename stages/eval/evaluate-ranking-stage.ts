/**
 * `evaluate_ranking`: full-catalog HR@K, NDCG@K and MRR (SPEC S7) of trained
 * checkpoints and of the popularity / random baselines, on the evaluation
 * rows of an examples stream.
 */
import { defineStage } from '../core/stage.js';
import { numericColumn } from '../core/batch.js';
import { Progress } from '../core/progress.js';
import { MetricAccumulator } from './accumulator.js';
import { ItemCounter, PopularityScorer, RANKING_BASELINES, RandomScorer, type RankingBaselineName } from './baselines.js';
import { baselineTarget, checkpointTarget, resolveCheckpoints, type EvalScorer, type EvalTarget } from './checkpoints.js';
import { EvalRowCollector, splitCodes, type EvalPartition } from './eval-rows.js';
import { EvaluationState } from './eval-state.js';
import { evaluateRanking } from './ranking-evaluator.js';
import { UserHistoryIndex } from './user-history.js';
import { rowsWithRewardAtLeast } from './reward-filter.js';
import { addReportNote } from './report-notes.js';
import type { Batch } from '../core/batch.js';
import { checkKs, DEFAULT_KS } from './ranking-metrics.js';
import { DEFAULT_MAX_SCORE_BLOCK_MB, scoreBlockFloats } from './blocked-topk.js';
import { EVAL_THREADS_DEFAULT, EvalThreads } from './eval-threads-option.js';
import { emitRecords, evaluatePendingPairs, pairRunNote } from './stage-support.js';
import { applyEvaluationShard, takeEvaluationShard } from './eval-shard.js';

export const evaluateRankingStage = defineStage({
  name: 'evaluate_ranking',
  role: 'transform',
  summary: 'Full-catalog HR@K, NDCG@K and MRR of checkpoints and baselines on the valid/test rows; emits metric records.',
  doc: [
    "Ranks each evaluation row's target among the whole catalog: rank = 1 + #items scored above the target + #other items tied with it",
    '(ties count against the model). Padding (item 0) is never ranked; with `exclude_history` (default) the items the user interacted with',
    'before the target (`history: full`, default: every earlier action of the user in the stream, any split, and the earliest context;',
    '`history: context`: only the context column, the last max_len items) are removed from the candidates, except the target. NDCG@K = 1[rank ≤ K]/log2(rank + 1), HR@K = 1[rank ≤ K], MRR = 1/rank; the record',
    '`candidates` gives the mean number of items a target competed with. Consumes the whole input first (train rows fit the popularity',
    'baseline; only context, action and split of evaluation rows are kept). With `state`, (checkpoint, data partition) pairs already',
    'evaluated are skipped and new ones added; baselines are recomputed every run (they depend on the whole stream).',
  ].join(' '),
  inputs: ['examples', 'weighted_examples'],
  output: 'metrics',
  // Sharded runs: shards per checkpoint × data partitions, their pairs committed by the coordinator (pipelines/plan/checkpoint-step.ts, eval-shard.ts).
  shard: { by: 'checkpoint_parts' },
  fields: {
    splits: {
      type: 'array',
      items: { type: 'string', enum: ['train', 'valid', 'test'], doc: 'split' },
      default: ['test', 'valid'],
      minItems: 1,
      doc: 'Splits whose rows are evaluated (one record set per split).',
    },
    checkpoints: {
      type: 'array',
      items: { type: 'string', doc: 'checkpoint directory' },
      doc: 'Checkpoint directories to evaluate (a directory holding several, such as checkpoints/<method>, means every checkpoint below it); default: every checkpoint earlier trainer stages published (artifact "checkpoints").',
    },
    baselines: {
      type: 'array',
      items: { type: 'string', enum: [...RANKING_BASELINES], doc: 'baseline' },
      default: ['popularity', 'random'],
      doc: 'Reference rankers: popularity (train-row counts) and random (seeded hash scores).',
    },
    ks: { type: 'array', items: { type: 'integer', min: 1, doc: 'cut-off' }, default: [...DEFAULT_KS], minItems: 1, doc: 'Cut-offs K of HR@K and NDCG@K.' },
    exclude_history: { type: 'boolean', default: true, doc: "Remove the user's history (other than the target) from the ranked candidates." },
    history: {
      type: 'string',
      enum: ['full', 'context'],
      default: 'full',
      doc: "What the excluded history is: full (every item of the user before the target, from all rows of the stream; needs user_id and timestamp) or context (the context column's items, the last max_len).",
    },
    min_reward: {
      type: 'number',
      doc: 'Rank only targets with reward ≥ this (paper 000: 4.5), for data split with apply_threshold: false so that evaluate_reward_model sees every test rating in the same run.',
    },
    state: { type: 'string', doc: 'Evaluation state file (JSON) for incremental and resumable evaluation of checkpoints.' },
    batch_rows: {
      type: 'integer',
      min: 1,
      default: 512,
      doc: 'Contexts ranked per chunk; a chunk holds at most max_score_block_mb of scores at a time (item blocks when batch_rows × catalog size does not fit).',
    },
    max_score_block_mb: {
      type: 'number',
      exclusiveMin: 0,
      default: DEFAULT_MAX_SCORE_BLOCK_MB,
      doc: 'Bound on the scores held at once, in MB of float32 (64: 16.8M scores, 512 contexts × 32,768 items). A larger catalog is scored in item blocks with a running rank per context (blocked top-K); a model without factored scores (not SASRec) scores fewer contexts per call, at least one whole row.',
    },
    threads: {
      type: 'integer',
      min: 0,
      default: EVAL_THREADS_DEFAULT,
      doc: 'Threads that share the catalog when ranking a SASRec checkpoint (0: every core), on the wasm or cpu backend; the ranks are the same for any count. Baselines and other models rank on one thread.',
    },
    num_items: { type: 'integer', min: 2, doc: 'Catalog size (with padding) for the baselines; default: 1 + the largest item id in the stream.' },
    std: { type: 'boolean', default: false, doc: 'Also emit <metric>_std records (standard deviation over test cases).' },
  },
  create(cfg, ctx) {
    checkKs(cfg.ks, 'evaluate_ranking: ks');
    const codes = splitCodes(cfg.splits);
    const fullHistory = cfg.exclude_history && cfg.history === 'full';
    const popularity = new ItemCounter();
    const shard = takeEvaluationShard(ctx, 'evaluate_ranking');
    const collector = new EvalRowCollector({
      splits: codes,
      ...(shard?.only?.partitions ? { keepPartitions: shard.only.partitions } : {}),
      columns: [...(fullHistory ? ['context', 'action', 'user_id', 'timestamp'] : ['context', 'action']), ...(cfg.min_reward !== undefined ? ['reward'] : [])],
      onTrain: (b, idx) => {
        const action = numericColumn(b, 'action');
        popularity.add(Int32Array.from(idx, (i) => action[i] as number));
      },
    });
    const history = fullHistory ? new UserHistoryIndex() : undefined;
    const threads = new EvalThreads(cfg.threads, ctx.log);
    return {
      abort() {
        void threads.close();
      },
      // A barrier: the whole input is read (keeping only what the collector and the history index keep) before anything is evaluated.
      process(b) {
        history?.add(b);
        collector.add(b);
      },
      async finish() {
        try {
          return await finishRanking();
        } finally {
          await threads.close();
        }
      },
    };

    async function finishRanking() {
      const state = EvaluationState.open(cfg.state, 'evaluate_ranking', {
        ks: cfg.ks,
        splits: cfg.splits,
        exclude_history: cfg.exclude_history,
        ...(cfg.exclude_history && cfg.history !== 'full' ? { history: cfg.history } : {}),
        ...(cfg.min_reward !== undefined ? { min_reward: cfg.min_reward } : {}),
      });
      applyEvaluationShard(state, shard);
      let belowMin = 0;
      const partitions = collector.partitions().map((part) => {
        if (cfg.min_reward === undefined) return part;
        const f = rowsWithRewardAtLeast(part.rows, cfg.min_reward);
        belowMin += f.dropped;
        return { ...part, rows: f.rows };
      });
      if (collector.evalRows === 0) ctx.log.warn(`evaluate_ranking: no rows of split(s) ${cfg.splits.join(', ')} in the input`);
      const evalOne = (name: string) => (policy: EvalScorer, labels: { method: string; seed: number; step: number; epoch: number }, part: EvalPartition) => {
        const progress = new Progress(`evaluate_ranking ${name}`, ctx.progress, part.rows.numRows);
        let last = 0;
        return (async () => {
          const acc = await evaluateRanking(policy, part.rows, {
            ks: cfg.ks,
            excludeHistory: cfg.exclude_history,
            ...(history ? { exclusions: (chunk: Batch) => history.exclusions(chunk) } : {}),
            batchRows: cfg.batch_rows,
            maxScoreFloats: scoreBlockFloats(cfg.max_score_block_mb),
            pool: await threads.poolFor(policy, part.rows.numRows),
            key: { run: ctx.runId, ...labels },
            onChunk: (done) => {
              progress.advance(done - last, done);
              last = done;
            },
          });
          progress.finish();
          return acc;
        })();
      };

      const targets = resolveCheckpoints(cfg.checkpoints, ctx, 'evaluate_ranking').map(checkpointTarget);
      let run = { evaluated: 0, skipped: 0 };
      for (const t of targets) {
        const r = await evaluatePendingPairs(state, [t], partitions, evalOne(t.name));
        run = { evaluated: run.evaluated + r.evaluated, skipped: run.skipped + r.skipped };
      }

      const numItems = cfg.num_items ?? collector.maxItemId + 1;
      const baselines = new MetricAccumulator();
      for (const name of partitions.length ? cfg.baselines : []) {
        const target = rankingBaseline(name, numItems, popularity, ctx.seed);
        const { policy, labels } = await target.load();
        for (const part of partitions) baselines.merge(await evalOne(name)(policy, labels, part));
      }
      if (targets.length === 0 && cfg.baselines.length === 0)
        ctx.log.warn('evaluate_ranking: no checkpoints (option or artifact "checkpoints") and no baselines: nothing to evaluate');
      ctx.log.info(
        `evaluate_ranking: ${collector.evalRows - belowMin} case(s) in ${partitions.length} partition(s)` +
          `${cfg.min_reward !== undefined ? ` (${belowMin} case(s) below min_reward ${cfg.min_reward} left out)` : ''}, ranked over the full catalog ` +
          `(padding never ranked${!cfg.exclude_history ? '' : fullHistory ? ", the user's whole history before the target excluded" : ', context items other than the target excluded'}, ties counted against the model); ` +
          pairRunNote(run, cfg.state) +
          `${cfg.baselines.length ? `; baselines ${cfg.baselines.join(', ')} over ${numItems - 1} items` : ''}`,
      );
      const excluded = !cfg.exclude_history ? 'no history excluded' : fullHistory ? "the user's whole history excluded" : 'the context items excluded';
      const note = `ranked over the full catalog, ${excluded}${cfg.min_reward !== undefined ? `, targets with reward ≥ ${cfg.min_reward}` : ''}`;
      for (const metric of [...cfg.ks.flatMap((k) => [`ndcg@${k}`, `hr@${k}`]), 'mrr']) addReportNote(ctx.artifacts, { metric, text: note });
      return emitRecords(ctx, [...state.metrics.toRecords({ std: cfg.std }), ...baselines.toRecords({ std: cfg.std })]);
    }
  },
});

/** The popularity or random baseline as an evaluation target. */
export function rankingBaseline(name: RankingBaselineName, numItems: number, counts: ItemCounter, seed: number): EvalTarget {
  const labels = { method: name, seed: name === 'random' ? seed : 0, step: 0, epoch: 0 };
  return baselineTarget(name, labels, () => (name === 'popularity' ? new PopularityScorer(counts.counts, numItems) : new RandomScorer(numItems, seed)));
}
