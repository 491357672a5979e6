/**
 * `evaluate_proxy_gold`: proxy and gold reward of each checkpoint's samples,
 * recentred by step 0, with the exact KL to the initial policy, and Table 1
 * of paper 004 (peak gold, proxy there, their gap, KL there) per run.
 */
import { ConfigError } from '../core/config-schema.js';
import { defineStage } from '../core/stage.js';
import type { RewardPredictor, SamplingPolicy } from '../core/policy.js';
import { checkpointTarget, resolveCheckpoints, type CheckpointRef, type EvalScorer, type EvalTarget, type TargetLabels } from './checkpoints.js';
import { splitCodes } from './eval-rows.js';
import { EvaluationState } from './eval-state.js';
import { proxyGoldRecords } from './proxy-gold.js';
import { evaluateProxyGold, type GoldFn } from './proxy-gold-evaluator.js';
import { emitRecords, evaluatePendingPairs, pairRunNote, partitionSeed, sampledContextsStage } from './stage-support.js';
import { resolveOracle } from '../simulators/truth.js';
import { ControlledProxy, readControlledProxy } from '../simulators/controlled-proxy.js';
import { ARTIFACT } from '../core/artifacts.js';
import { applyEvaluationShard, takeEvaluationShard } from './eval-shard.js';

interface Series {
  labels: TargetLabels;
  members: { ref: CheckpointRef; target: EvalTarget; labels: TargetLabels }[];
}

/** Labels of every checkpoint (loading those whose labels were not published), grouped into (method, seed) series by step. */
async function groupSeries(refs: CheckpointRef[]): Promise<Series[]> {
  const series = new Map<string, Series>();
  for (const ref of refs) {
    const target = checkpointTarget(ref);
    let labels: TargetLabels;
    if (ref.method !== undefined && ref.step !== undefined && ref.seed !== undefined) {
      labels = { method: ref.method, step: ref.step, seed: ref.seed, epoch: ref.epoch ?? 0 };
    } else {
      labels = (await target.load()).labels;
      target.release();
    }
    const key = JSON.stringify([labels.method, labels.seed]);
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels, members: [] }));
    s.members.push({ ref, target, labels });
  }
  for (const s of series.values()) s.members.sort((a, b) => a.labels.step - b.labels.step || a.labels.epoch - b.labels.epoch);
  return [...series.values()];
}

export const evaluateProxyGoldStage = defineStage({
  name: 'evaluate_proxy_gold',
  role: 'transform',
  summary:
    'Proxy vs gold reward of policy samples per checkpoint (recentred by step 0), exact KL to the initial policy, and the peak-gold summary (paper 004 Table 1).',
  doc: [
    'Per checkpoint: `samples` recommendations per held-out context (up to `max_contexts`), proxy_reward = mean proxy reward-head score,',
    "gold_reward = mean gold reward (the simulator's true reward with gold: world, or a held-out reward head given as a checkpoint dir),",
    'kl_to_init = exact KL(π‖π₀) over the catalog (from logProbs; π₀ = `initial`, default the earliest checkpoint of the same method and seed).',
    'proxy_gold_agreement = the fraction of pairs of distinct sampled items that proxy and gold order the same way (paper 004 App. G, one observation per context).',
    "Derived records: proxy_gain / gold_gain = value − the series' step-0 value; and per (method, seed), plus seed −1 for the mean over",
    "seeds, peak_gold, proxy_at_peak, gold_proxy_gap (= peak_gold − proxy_at_peak) and kl_at_peak, labelled with the peak's step.",
    "The proxy is `proxy`'s reward head, default the earliest checkpoint's of each series (the reward model training started from).",
  ].join(' '),
  inputs: ['examples', 'weighted_examples'],
  output: 'metrics',
  // Sharded runs: shards per checkpoint × data partitions, their pairs committed by the coordinator (pipelines/plan/checkpoint-step.ts, eval-shard.ts).
  shard: { by: 'checkpoint_parts', artifacts: [ARTIFACT.world, ARTIFACT.vocab] },
  fields: {
    splits: {
      type: 'array',
      items: { type: 'string', enum: ['train', 'valid', 'test'], doc: 'split' },
      default: ['test'],
      minItems: 1,
      doc: 'Splits whose contexts are the held-out prompts.',
    },
    checkpoints: {
      type: 'array',
      items: { type: 'string', doc: 'checkpoint directory' },
      doc: 'Checkpoints along training; default: the artifact "checkpoints".',
    },
    proxy: { type: 'string', doc: 'Checkpoint whose reward head is the proxy; default: the earliest checkpoint of each series.' },
    proxy_file: {
      type: 'string',
      doc: 'A calibrate_proxy file: the proxy is its member 0, r* + σ·b(item) (gold: world only), instead of a reward head.',
    },
    gold: { type: 'string', default: 'world', doc: '"world" (simulator truth) or a checkpoint dir whose reward head is the held-out gold model.' },
    initial: { type: 'string', doc: 'Checkpoint of the initial policy π₀ for the KL; default: the earliest checkpoint of each series.' },
    world: { type: 'string', doc: 'Saved simulator world directory (gold: world); default: the artifact "world".' },
    vocab: { type: 'string', doc: 'Vocabulary directory mapping dense ids to the world\'s ids; default: the artifact "vocab", else ids unchanged.' },
    samples: { type: 'integer', min: 1, default: 10, doc: 'Samples per context.' },
    max_contexts: { type: 'integer', min: 1, default: 512, doc: 'Held-out contexts used at most (paper 004 holds out 512 prompts).' },
    state: { type: 'string', doc: 'Evaluation state file (JSON) for incremental and resumable evaluation.' },
    batch_rows: { type: 'integer', min: 1, default: 256, doc: 'Contexts per model call.' },
    std: { type: 'boolean', default: false, doc: 'Also emit <metric>_std records of the accumulated metrics.' },
  },
  create(cfg, ctx) {
    const codes = splitCodes(cfg.splits);
    const shard = takeEvaluationShard(ctx, 'evaluate_proxy_gold');
    const keepPartitions = shard?.only?.partitions;
    return sampledContextsStage({ splits: codes, maxContexts: cfg.max_contexts, ...(keepPartitions ? { keepPartitions } : {}) }, async (collector) => {
      const state = EvaluationState.open(cfg.state, 'evaluate_proxy_gold', {
        splits: cfg.splits,
        proxy: cfg.proxy ?? null,
        gold: cfg.gold,
        initial: cfg.initial ?? null,
        samples: cfg.samples,
        max_contexts: cfg.max_contexts,
        seed: ctx.seed,
      });
      applyEvaluationShard(state, shard);
      const partitions = collector.partitions();
      const opened: EvalTarget[] = [];
      const open = async (dir: string) => {
        const t = checkpointTarget({ dir });
        opened.push(t);
        return (await t.load()).policy;
      };
      try {
        let gold: GoldFn;
        let userProxy: GoldFn | undefined;
        if (cfg.gold === 'world') {
          const { oracle, note } = await resolveOracle(cfg.world, cfg.vocab, ctx.artifacts);
          if (!oracle)
            throw new ConfigError(
              'evaluate_proxy_gold: gold "world" needs a simulator world (option world or artifact "world"); or set gold to a checkpoint whose reward head is the gold model',
              ['gold'],
            );
          ctx.log.info(`evaluate_proxy_gold: gold = ${note}`);
          gold = async (_c, users, items) => oracle.trueRewards(users, items);
          if (cfg.proxy_file) {
            const score = ControlledProxy.withOracle(readControlledProxy(cfg.proxy_file, 'proxy_file'), oracle);
            userProxy = async (_c, users, items) => score(users, items);
          }
        } else {
          if (cfg.proxy_file)
            throw new ConfigError('evaluate_proxy_gold: proxy_file needs gold: world (the controlled proxy is built on the simulator truth)', ['proxy_file']);
          const head = await open(cfg.gold);
          if (!head.predictRewards) throw new ConfigError(`evaluate_proxy_gold: gold checkpoint ${cfg.gold} has no reward head`, ['gold']);
          gold = (c, _u, items) => head.predictRewards!(c, items);
        }
        const fixedProxy = cfg.proxy ? await open(cfg.proxy) : undefined;
        const fixedInitial = cfg.initial ? await open(cfg.initial) : undefined;

        const refs = resolveCheckpoints(cfg.checkpoints, ctx, 'evaluate_proxy_gold');
        let evaluated = 0;
        let skipped = 0;
        for (const series of await groupSeries(refs)) {
          // A target of its own for the series' first checkpoint: evaluating that checkpoint releases its
          // evaluation target, while its reward head and log-probabilities serve the whole series.
          const first = checkpointTarget(series.members[0]!.ref);
          const needFirst = !fixedProxy || !fixedInitial;
          // Only pairs that need evaluating here (not done, this shard's, not already evaluated by a shard) need the series' first policy.
          const pending = partitions.some((p) => series.members.some((m) => state.needsEvaluation(m.target.id, p.id)));
          const firstPolicy: EvalScorer | undefined = needFirst && pending ? (await first.load()).policy : undefined;
          try {
            const proxy = fixedProxy ?? firstPolicy;
            const initial = fixedInitial ?? firstPolicy;
            const who = `${series.labels.method} (seed ${series.labels.seed})`;
            const run = await evaluatePendingPairs(
              state,
              series.members.map((m) => m.target),
              partitions,
              async (policy, labels, part) => {
                if (!userProxy && !proxy?.predictRewards)
                  throw new ConfigError(`evaluate_proxy_gold: ${who}: the proxy checkpoint has no reward head; set the proxy option`, ['proxy']);
                if (!policy.sample) {
                  ctx.log.warn(`evaluate_proxy_gold: ${labels.method}@${labels.step} cannot sample; skipped`);
                  return undefined;
                }
                if (!initial?.logProbs || !policy.logProbs) ctx.log.warn(`evaluate_proxy_gold: ${labels.method}@${labels.step}: no logProbs, so no kl_to_init`);
                return evaluateProxyGold(policy, part.rows, {
                  samples: cfg.samples,
                  batchRows: cfg.batch_rows,
                  seed: partitionSeed(ctx.seed, part),
                  key: { run: ctx.runId, ...labels },
                  proxy: proxy as RewardPredictor,
                  ...(userProxy ? { userProxy } : {}),
                  gold,
                  initial: initial as Partial<SamplingPolicy> | undefined,
                });
              },
            );
            evaluated += run.evaluated;
            skipped += run.skipped;
          } finally {
            first.release();
          }
        }
        ctx.log.info(`evaluate_proxy_gold: ${collector.evalRows} context(s) × ${cfg.samples} sample(s); ${pairRunNote({ evaluated, skipped }, cfg.state)}`);
      } finally {
        for (const t of opened) t.release();
      }
      return emitRecords(ctx, [...state.metrics.toRecords({ std: cfg.std }), ...proxyGoldRecords(state.metrics, cfg.splits)]);
    });
  },
});
