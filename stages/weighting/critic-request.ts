/**
 * What a critic-based objective (IQL, CRR with a critic, BPPO, DRPO-Q; SPEC
 * S10) asks its trainer for: a Q(s, a) and V(s) fitted on the logged rewards
 * before the policy is trained (stages/train/critic/), and per row the
 * learned Q and a baseline. The objective reads them from the batch's
 * `critic` column pair; a trainer that trains no critic leaves it absent and
 * the objective says so.
 */
import { ConfigError, type Fields } from '../core/config-schema.js';

/** The per-row baseline b(s) in A = Q(s, a) − b(s). */
export type CriticBaseline =
  /** The learned V(s) (expectile regression of Q over the logged actions). */
  | 'value'
  /** The mean of Q(s, a') over `samples` actions a' drawn from the current policy π(·|s) (CRR). */
  | 'policy_mean';

export interface CriticRequest {
  hidden: number[];
  epochs: number;
  batchSize: number;
  lr: number;
  /** Expectile τ of V (0.5: V is the behaviour policy's mean Q). */
  tau: number;
  targetRate: number;
  baseline: CriticBaseline;
  /** Actions sampled per state for baseline `policy_mean`. */
  samples: number;
}

/** BPPO's behaviour-proximal update: the trainer minimises the clipped surrogate with ratio π/π_k instead of the weighted NLL. */
export interface ProximalRequest {
  epsilon: number;
  /** π_k is replaced by the current policy every this many steps. */
  refreshSteps: number;
}

/** The critic's own options, shared by every critic-based objective. */
export const criticFields: Fields = {
  critic_hidden: {
    type: 'array',
    items: { type: 'integer', min: 1, doc: 'width' },
    default: [64, 64],
    doc: 'Hidden layer widths of the critic networks Q(s, a) (input [s, e_a]) and V(s).',
  },
  critic_epochs: { type: 'integer', min: 1, default: 5, doc: 'Passes over the logged examples when fitting the critic (before the policy is trained).' },
  critic_batch_size: { type: 'integer', min: 1, default: 256, doc: 'Minibatch size of the critic fit.' },
  critic_lr: { type: 'number', exclusiveMin: 0, default: 1e-3, doc: 'Adam learning rate of the critic fit.' },
  target_rate: {
    type: 'number',
    exclusiveMin: 0,
    max: 1,
    default: 0.05,
    doc: 'Polyak rate α of the target Q̄ ← (1 − α)·Q̄ + α·Q used as V’s regression target.',
  },
};

/** The critic options out of a validated objective config. */
export function criticOptionsOf(c: Record<string, unknown>, tau: number, baseline: CriticBaseline, samples = 0): CriticRequest {
  return {
    hidden: c.critic_hidden as number[],
    epochs: c.critic_epochs as number,
    batchSize: c.critic_batch_size as number,
    lr: c.critic_lr as number,
    tau,
    targetRate: c.target_rate as number,
    baseline,
    samples,
  };
}

/** The config without the critic's own options (to hand the rest to a wrapped objective). */
export function withoutCriticFields(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !(k in criticFields)));
}

/** The batch's learned Q and baseline, or a ConfigError naming the objective. */
export function requireCritic(
  b: { reward: Float64Array; critic?: { q: Float64Array; baseline: Float64Array } },
  name: string,
): { q: Float64Array; baseline: Float64Array } {
  const c = b.critic;
  if (!c)
    throw new ConfigError(
      `objective "${name}" needs a learned critic Q(s, a) per row, which only train_gaussian fits (not other trainers, nor the objective as a stream stage)`,
      ['objective.name'],
    );
  if (c.q.length !== b.reward.length || c.baseline.length !== b.reward.length)
    throw new Error(`${name}: the critic columns have ${c.q.length} and ${c.baseline.length} rows, reward has ${b.reward.length}`);
  return c;
}
