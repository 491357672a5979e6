/**
 * `calibrate_proxy`: a proxy reward at a chosen pairwise agreement with the
 * gold reward (paper 004 App. G regimes 73.6%, 85.7%, 95.2%), written to a
 * file that `train_online` (proxy: controlled) and `evaluate_proxy_gold`
 * (proxy_file) read. Pilot candidates come from the initial policy on
 * held-out contexts of the pilot split (valid by default, never test), as
 * the paper's agreement is measured on responses of the policy-generation
 * pipeline. The stage passes its input on unchanged.
 */
import { ConfigError } from '../core/config-schema.js';
import { defineStage } from '../core/stage.js';
import { ControlledProxy, memberItemBias, writeControlledProxy, type ControlledProxySpec } from '../simulators/controlled-proxy.js';
import { resolveOracle } from '../simulators/truth.js';
import type { SamplingPolicy } from '../core/policy.js';
import { checkpointTarget } from './checkpoints.js';
import { repeatEach } from './contexts.js';
import { contextsOf, EvalRowCollector, int32Of, splitCodes } from './eval-rows.js';
import { sampleItems } from './judge-evaluator.js';
import { pairwiseAgreement } from './pairwise-agreement.js';
import { agreementPairs, solveNoiseScale } from './proxy-quality.js';
import { combineEnsemble } from '../weighting/reward-ensemble.js';

/** Mean over contexts with a pair (NaN entries skipped), as proxy_gold_agreement is averaged. */
function meanAgreement(a: Float64Array): number {
  let s = 0;
  let n = 0;
  for (const v of a) {
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  return n ? s / n : NaN;
}

export const calibrateProxyStage = defineStage({
  name: 'calibrate_proxy',
  role: 'transform',
  summary:
    'Proxy-quality control (paper 004 App. G): gold reward + item-biased noise σ·b(item), σ solved to hit a target pairwise agreement on pilot contexts.',
  doc: [
    "The proxy r̂_j(u, i) = r*(u, i) + σ·b_j(i): r* the simulator's gold reward, b_j(i) = √ρ·s(i) + √(1−ρ)·e_j(i) with s, e_j ~ N(0, 1) per item",
    '(an exploitable item bias, the same for every user; member 0 is the proxy, members 1…K−1 the other heads of an ensemble).',
    'Pilot: `pilot_samples` candidates per context from `init` on up to `pilot_contexts` contexts of `split`. σ is the exact minimiser of',
    '|agreement(σ) − target| (agreement is a step function of σ; stages/eval/proxy-quality.ts), agreement measured as proxy_gold_agreement is.',
    "Writes `output` (JSON: σ, seed, members, ρ, target and achieved agreement, the ensemble mean's agreement, the pilot) and emits the metrics",
    'proxy_agreement_target, proxy_agreement_pilot, ensemble_mean_agreement_pilot and proxy_noise_sigma (method = `label`). Batches pass through unchanged.',
  ].join(' '),
  inputs: ['examples'],
  output: 'examples',
  fields: {
    target_agreement: {
      type: 'number',
      exclusiveMin: 0.5,
      max: 1,
      default: 0.857,
      doc: "Target pairwise agreement with gold (the paper's 0.736, 0.857, 0.952).",
    },
    init: { type: 'string', required: true, doc: 'Checkpoint of the initial policy whose samples are the pilot candidates.' },
    output: { type: 'string', required: true, doc: 'File to write (JSON).' },
    split: { type: 'string', enum: ['train', 'valid', 'test'], default: 'valid', doc: 'Split whose contexts are the pilot prompts.' },
    pilot_contexts: { type: 'integer', min: 1, default: 128, doc: 'Pilot contexts used at most.' },
    pilot_samples: { type: 'integer', min: 2, default: 16, doc: 'Candidates per pilot context.' },
    members: { type: 'integer', min: 1, default: 5, doc: 'K: ensemble members the file describes (member 0 is the proxy).' },
    correlation: { type: 'number', min: 0, max: 1, default: 0.5, doc: "ρ: correlation of two members' item biases (0 = independent errors)." },
    noise_seed: { type: 'integer', doc: 'Seed of the item biases (default: the pipeline seed).' },
    label: { type: 'string', default: 'proxy', doc: 'Method label of the emitted metrics.' },
    world: { type: 'string', doc: 'Simulator world directory (default: the `world` artifact).' },
    vocab: { type: 'string', doc: 'Vocabulary directory mapping dense ids to the world (default: the `vocab` artifact).' },
  },
  create(cfg, ctx) {
    const collector = new EvalRowCollector({ splits: splitCodes([cfg.split]), columns: ['context', 'action', 'user_id'], maxRows: cfg.pilot_contexts });
    return {
      process(b) {
        collector.add(b);
        return b;
      },
      async finish() {
        const { oracle, note } = await resolveOracle(cfg.world, cfg.vocab, ctx.artifacts);
        if (!oracle) throw new ConfigError('calibrate_proxy: the gold reward needs a simulator world (the `world` artifact or option)', ['world']);
        const rows = collector.partitions().map((p) => p.rows);
        if (rows.length === 0 || collector.evalRows === 0)
          throw new ConfigError(`calibrate_proxy: no ${cfg.split} contexts in the input to use as pilot prompts`, ['split']);
        const target = checkpointTarget({ dir: cfg.init });
        const seed = cfg.noise_seed ?? ctx.seed;
        const k = cfg.pilot_samples;
        const items: Int32Array[] = [];
        const gold: Float64Array[] = [];
        try {
          const { policy } = await target.load();
          if (!policy.sample) throw new ConfigError(`calibrate_proxy: the policy at ${cfg.init} cannot sample`, ['init']);
          for (const [c, batch] of rows.entries()) {
            const s = await sampleItems(policy as SamplingPolicy, contextsOf(batch), k, seed + 7919 * (c + 1));
            items.push(s);
            gold.push(Float64Array.from(oracle.trueRewards(repeatEach(int32Of(batch, 'user_id'), k), s)));
          }
        } finally {
          target.release();
        }
        const allItems = Int32Array.from(items.flatMap((a) => [...a]));
        const allGold = Float64Array.from(gold.flatMap((a) => [...a]));
        let maxItem = 0;
        for (const it of allItems) if (it > maxItem) maxItem = it;
        const bias0 = memberItemBias(seed, 0, cfg.correlation, maxItem + 1);
        const pairs = agreementPairs(
          allItems,
          allGold,
          Float64Array.from(allItems, (it) => bias0[it]!),
          k,
        );
        const { sigma, achieved } = solveNoiseScale(pairs, cfg.target_agreement);
        const proxy = new ControlledProxy({ sigma, seed, members: cfg.members, correlation: cfg.correlation });
        const members = proxy.scoreMembers(allGold, allItems);
        const ensembleMean = combineEnsemble(members, { combine: 'mean', lambda: 0, disagreement: 'var' }).reward;
        const spec: ControlledProxySpec = {
          format: 'recpost-controlled-proxy',
          version: 1,
          sigma,
          seed,
          members: cfg.members,
          correlation: cfg.correlation,
          target_agreement: cfg.target_agreement,
          achieved_agreement: meanAgreement(pairwiseAgreement(allItems, members[0]!, allGold, k)),
          ensemble_mean_agreement: meanAgreement(pairwiseAgreement(allItems, ensembleMean, allGold, k)),
          pilot: { split: cfg.split, contexts: pairs.contexts, samples: k, pairs: pairs.pairs, init: cfg.init },
        };
        if (Math.abs(spec.achieved_agreement - achieved) > 1e-9)
          throw new Error(`calibrate_proxy: solved agreement ${achieved} but measured ${spec.achieved_agreement} (a bug)`);
        writeControlledProxy(cfg.output, spec);
        const base = { method: cfg.label, seed, split: cfg.split, count: pairs.contexts };
        ctx.emitMetric({ ...base, metric: 'proxy_agreement_target', value: cfg.target_agreement });
        ctx.emitMetric({ ...base, metric: 'proxy_agreement_pilot', value: spec.achieved_agreement });
        ctx.emitMetric({ ...base, metric: 'ensemble_mean_agreement_pilot', value: spec.ensemble_mean_agreement });
        ctx.emitMetric({ ...base, metric: 'proxy_noise_sigma', value: sigma });
        ctx.log.info(
          `calibrate_proxy[${cfg.label}]: σ = ${sigma.toFixed(4)} gives agreement ${(100 * spec.achieved_agreement).toFixed(2)}% (target ${(100 * cfg.target_agreement).toFixed(1)}%) on ${pairs.contexts} ${cfg.split} contexts × ${k} candidates (${pairs.pairs} pairs); ensemble mean of ${cfg.members}: ${(100 * spec.ensemble_mean_agreement).toFixed(2)}%; gold: ${note} → ${cfg.output}`,
        );
        return [];
      },
    };
  },
});
