/**
 * train_online's options for the proxy reward (paper 004 baselines and
 * protocol): the controlled proxy file, reward-model ensembles, BSPO, InfoRM,
 * and the pilot of δ̃₀'s calibration; opening them for a run (online-proxy.ts).
 */
import { ConfigError, type Fields } from '../core/config-schema.js';
import { readControlledProxy } from '../simulators/controlled-proxy.js';
import type { TrueRewardOracle } from '../simulators/truth.js';
import { calibrateDelta0 } from '../weighting/delta0-calibration.js';
import { readCheckpoint } from './checkpoint.js';
import { readInformHead } from './inform-file.js';
import { contextsOfUpdate, type OnlineContexts } from './online-context-batches.js';
import type { OnlineModel } from './online-model.js';
import { onlineProxy, type OnlineProxyFn, type ProxyKind } from './online-proxy.js';
import { rollout } from './online-rollout.js';
import type { ParamStore } from './params.js';

export const onlineProxyFields = {
  proxy_file: { type: 'string', doc: 'proxy controlled: the file written by calibrate_proxy (σ, seed, ensemble members).' },
  ensemble: {
    type: 'object',
    default: { combine: 'none', lambda: 1, disagreement: 'var', members: 0, checkpoints: [] },
    doc: 'Reward-model ensemble as the proxy (Coste et al. 2024; paper 004 App. G): Ensemble-Mean R_μ = (1/K)Σ_j R_j, Ensemble-UWO R_μ − λ·Var_j R_j (or λ·std).',
    fields: {
      combine: { type: 'string', enum: ['none', 'mean', 'uwo'], default: 'none', doc: 'none: member 0 only; mean: Ensemble-Mean; uwo: Ensemble-UWO.' },
      lambda: { type: 'number', min: 0, default: 1, doc: "λ of UWO (the paper's 1.0)." },
      disagreement: {
        type: 'string',
        enum: ['var', 'std'],
        default: 'var',
        doc: "UWO's disagreement: the members' population variance (paper 004 App. G) or std.",
      },
      members: { type: 'integer', min: 0, default: 0, doc: 'proxy controlled: members K used (0 = all of the file).' },
      checkpoints: {
        type: 'array',
        items: { type: 'string', doc: 'checkpoint directory' },
        default: [],
        doc: "proxy reward_head: the other members, checkpoints of the same architecture with reward heads trained from other seeds (member 0 is init's head).",
      },
    },
  },
  bspo: {
    type: 'object',
    default: { threshold: 0, value: -15 },
    doc: 'BSPO (Dai et al. 2025): a candidate with π₀(a|s) < threshold (outside the behaviour support, exact over the catalog) is rewarded `value` instead of r̂.',
    fields: {
      threshold: { type: 'number', min: 0, max: 1, default: 0, doc: 'ε_β (0 = off; the paper uses 1e-4).' },
      value: { type: 'number', default: -15, doc: "v_pess, the pessimistic reward of an unsupported candidate (the paper's −15)." },
    },
  },
  inform: {
    type: 'object',
    default: { penalty: 0.01 },
    doc: 'InfoRM (Miao et al. 2024): train on r̂ − c·KL(q(z|s,a) ‖ N(0, I)) with the bottleneck of a train_inform_head file.',
    fields: {
      head: { type: 'string', doc: "The train_inform_head file (trained on the init checkpoint's state features)." },
      penalty: { type: 'number', min: 0, default: 0.01, doc: "c, the weight of the KL penalty (the paper's 0.01)." },
    },
  },
  pilot: {
    type: 'object',
    default: { contexts: 64, samples: 0 },
    doc: 'Pilot of shaper.delta0_calibration: pilot (paper 004 §4.5): contexts of the prompt source, samples from π₀ scored by the proxy and the gold reward.',
    fields: {
      contexts: { type: 'integer', min: 1, default: 64, doc: 'Pilot contexts.' },
      samples: { type: 'integer', min: 0, default: 0, doc: 'Candidates per pilot context (0 = group_size).' },
    },
  },
} as const satisfies Fields;

interface ProxyOptionConfig {
  proxy: string;
  proxy_file?: string;
  proxy_noise: number;
  ensemble: { combine: 'none' | 'mean' | 'uwo'; lambda: number; disagreement: 'var' | 'std'; members: number; checkpoints: string[] };
  bspo: { threshold: number; value: number };
  inform: { head?: string; penalty: number };
  pilot: { contexts: number; samples: number };
  group_size: number;
}

/** Cross-field problems, for `recpost validate` as well as `run`. */
export function onlineProxyProblems(cfg: ProxyOptionConfig): string[] {
  const out: string[] = [];
  if (cfg.proxy === 'controlled' && !cfg.proxy_file) out.push('proxy controlled needs proxy_file (a calibrate_proxy output)');
  if (cfg.proxy !== 'controlled' && cfg.proxy_file) out.push(`proxy_file applies to proxy controlled, not ${cfg.proxy}`);
  if (cfg.ensemble.combine !== 'none' && cfg.proxy === 'simulator') out.push('an ensemble needs proxy reward_head (ensemble.checkpoints) or controlled');
  if (cfg.ensemble.checkpoints.length && cfg.proxy === 'controlled')
    out.push('ensemble.checkpoints apply to proxy reward_head; a controlled proxy takes its members from proxy_file');
  if (cfg.ensemble.combine !== 'none' && cfg.proxy === 'reward_head' && cfg.ensemble.checkpoints.length === 0)
    out.push('ensemble with proxy reward_head needs ensemble.checkpoints (the other members)');
  return out;
}

/** The run's proxy function and what it holds (member heads, the InfoRM head) to dispose. */
export function openOnlineProxy<P>(
  cfg: ProxyOptionConfig,
  kind: ProxyKind,
  model: OnlineModel<P>,
  reference: ParamStore,
  oracle: TrueRewardOracle | undefined,
  seed: number,
  stage: string,
): { fn: OnlineProxyFn; dispose(): void } {
  const held: ParamStore[] = [];
  try {
    const controlled = kind === 'controlled' ? readControlledProxy(cfg.proxy_file!, 'proxy_file') : undefined;
    if (controlled && cfg.ensemble.members > controlled.members)
      throw new ConfigError(`${stage}: ensemble.members ${cfg.ensemble.members} > the ${controlled.members} members of ${cfg.proxy_file}`, ['ensemble']);
    if (cfg.ensemble.combine !== 'none' && kind === 'reward_head') {
      for (const dir of cfg.ensemble.checkpoints) {
        const ck = readCheckpoint(dir);
        const p = model.createParams(seed);
        held.push(p);
        p.load(ck.params, `ensemble member ${dir}`);
        if (!p.names().some((n) => n.startsWith('reward/'))) throw new ConfigError(`${stage}: ensemble member ${dir} has no reward head`, ['ensemble']);
      }
    }
    let inform: { params: ParamStore; penalty: number } | undefined;
    if (cfg.inform.head) {
      const { head, params } = readInformHead(cfg.inform.head, 'inform');
      held.push(params);
      if (head.dims.featureDim !== model.featureDim || head.dims.numItems !== model.numItems)
        throw new ConfigError(
          `${cfg.inform.head}: the InfoRM head reads ${head.dims.featureDim} features over ${head.dims.numItems} items, the policy has ${model.featureDim} over ${model.numItems}`,
          ['inform'],
        );
      inform = { params, penalty: cfg.inform.penalty };
    }
    const fn = onlineProxy(model, reference, oracle, {
      kind,
      seed,
      proxyNoise: cfg.proxy_noise,
      controlled,
      ensemble: cfg.ensemble,
      memberHeads: held.filter((p) => p !== inform?.params),
      inform,
      bspo: cfg.bspo,
    });
    return { fn, dispose: () => held.forEach((p) => p.dispose()) };
  } catch (e) {
    held.forEach((p) => p.dispose());
    throw e;
  }
}

/** RNG counter of the pilot's draws, apart from every update's (0 … M). */
const PILOT_UPDATE = 2_000_000_011;

/**
 * δ̃₀ from pilot contexts (delta0-calibration.ts): the first `pilot.contexts`
 * prompts of a seeded permutation, `samples` candidates each from π₀ (the
 * reference), scored by the run's proxy and by the gold reward.
 */
export function pilotDelta0<P>(
  cfg: ProxyOptionConfig,
  model: OnlineModel<P>,
  reference: ParamStore,
  contexts: OnlineContexts,
  proxy: OnlineProxyFn,
  oracle: TrueRewardOracle | undefined,
  seed: number,
  stage: string,
): number {
  if (!oracle) throw new ConfigError(`${stage}: delta0_calibration pilot needs the gold reward (a simulator world)`, ['shaper']);
  const G = cfg.pilot.samples > 0 ? cfg.pilot.samples : cfg.group_size;
  const batch = contextsOfUpdate(contexts, Math.min(cfg.pilot.contexts, contexts.rows), 0, seed ^ 0x51107, new Map());
  const roll = rollout(model, reference, reference, batch, model.prepare(batch), G, seed, PILOT_UPDATE);
  const r = proxy(batch, roll.items, G, PILOT_UPDATE, roll.refLogProb);
  const users = Int32Array.from(roll.items, (_, i) => batch.users[Math.floor(i / G)]!);
  return calibrateDelta0(r, oracle.trueRewards(users, roll.items), G);
}
