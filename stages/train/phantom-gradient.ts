/**
 * The "phantom gradient" monitor of paper 002 (§5.2, Fig. 2; SPEC S4): the
 * gradient the rejected examples would contribute if they were applied,
 * measured but never applied, beside the gradient of the kept examples.
 *
 * Both are gradients of the policy term −(1/M)·Σ w·log π(a|s) alone (the
 * task's `policyLoss`, without auxiliary terms such as the reward head's MSE),
 * at the parameters of the step, with the phantom weights (rejected rows,
 * repulsive when their advantage is negative) and with the applied weights
 * (kept rows, attractive). Reported per step:
 *
 *   phantom_grad_norm, kept_grad_norm, phantom_ratio = phantom / kept
 *
 * and, for each parameter group the task names (the Gaussian policy's μ
 * network and log σ), the same three with the suffix `_<group>` (Fig. 2b's
 * μ and σ components and their repulsive-to-attractive ratios).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OfflineTask, PreparedBatch } from './offline-trainer.js';

export const PHANTOM_METRICS = ['phantom_grad_norm', 'kept_grad_norm', 'phantom_ratio'] as const;

/** Squared norm of the policy term's gradient, in total and per parameter group. */
function policyGradSquares<P extends PreparedBatch>(
  task: OfflineTask<P>,
  batch: P,
  weights: Float32Array,
  step: number,
): { total: number; groups: Map<string, number> } {
  const { value, grads } = tf.variableGrads(() => {
    const out = task.loss(batch, weights, step);
    return out.policyLoss ?? out.loss;
  }, task.params.variables());
  const named = new Map(Object.entries(grads).map(([vn, g]) => [task.params.nameOf(vn) ?? vn, g] as const));
  const out = gradSquares(task, named);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** Squared norm of gradients keyed by parameter name, in total and per parameter group of `task`. */
export function gradSquares(task: Pick<OfflineTask, 'paramGroups'>, grads: ReadonlyMap<string, tf.Tensor>): { total: number; groups: Map<string, number> } {
  const groups = new Map<string, number>();
  for (const g of Object.keys(task.paramGroups ?? {})) groups.set(g, 0);
  let total = 0;
  for (const [name, g] of grads) {
    const s = tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0]!);
    total += s;
    for (const [group, member] of Object.entries(task.paramGroups ?? {})) if (member(name)) groups.set(group, groups.get(group)! + s);
  }
  return { total, groups };
}

/** The monitor's records for one step: rejected (`phantom`) and kept norms and their ratios. */
export function phantomGradientNorms<P extends PreparedBatch>(
  task: OfflineTask<P>,
  batch: P,
  kept: Float32Array,
  rejected: Float32Array,
  step: number,
): Record<string, number> {
  return phantomRecords(policyGradSquares(task, batch, kept, step), policyGradSquares(task, batch, rejected, step));
}

/** The records from the kept (k) and rejected (r) squared norms. */
export function phantomRecords(k: { total: number; groups: Map<string, number> }, r: { total: number; groups: Map<string, number> }): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (suffix: string, rs: number, ks: number) => {
    const rn = Math.sqrt(rs);
    const kn = Math.sqrt(ks);
    out[`phantom_grad_norm${suffix}`] = rn;
    out[`kept_grad_norm${suffix}`] = kn;
    if (kn > 0) out[`phantom_ratio${suffix}`] = rn / kn;
  };
  put('', r.total, k.total);
  for (const [g, rs] of r.groups) put(`_${g}`, rs, k.groups.get(g)!);
  return out;
}

/** Is `metric` one of the monitor's records (so an objective diagnostic of that name does not shadow it)? */
export function isPhantomMetric(metric: string): boolean {
  return PHANTOM_METRICS.some((m) => metric === m || metric.startsWith(`${m}_`));
}
