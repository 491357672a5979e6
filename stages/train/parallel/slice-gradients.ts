/**
 * The gradient of one row slice's share of a minibatch loss, written into a
 * flat float32 array (param-layout.ts). The task's loss on a slice of M_s of
 * the minibatch's M targets is a mean over the slice; times M_s/M it is the
 * slice's part of the minibatch mean, so the parts (and their gradients) sum
 * to the whole batch's: −(1/M) Σ_m w_m log π_m = Σ_s (M_s/M)·(−(1/M_s) Σ_{m∈s} w_m log π_m).
 * The same function runs on the main thread (slice 0) and in the workers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OfflineTask, PreparedBatch } from '../offline-trainer.js';
import type { ParamLayout } from './param-layout.js';

export interface SliceResult {
  /** The slice's share of the minibatch loss, nll and additive extras. */
  loss: number;
  nll: number;
  extras: Record<string, number>;
  /** Parameters the loss depends on (the others' regions are zero). */
  present: string[];
}

/** Which scalar is differentiated: the minimised loss, or the policy term alone (the phantom-gradient monitor). */
export type GradientTerm = 'loss' | 'policy';

export function sliceGradients<P extends PreparedBatch>(
  task: OfflineTask<P>,
  batch: P,
  weights: Float32Array,
  step: number,
  /** M_s / M. */
  share: number,
  additiveExtras: readonly string[],
  layout: ParamLayout,
  out: Float32Array,
  term: GradientTerm = 'loss',
): SliceResult {
  let nllT: tf.Scalar | undefined;
  let extraT: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const o = task.loss(batch, weights, step);
    nllT = tf.keep(o.nll);
    extraT = Object.fromEntries(Object.entries(o.extra ?? {}).map(([k, t]) => [k, tf.keep(t)]));
    const y = term === 'policy' ? (o.policyLoss ?? o.loss) : o.loss;
    return share === 1 ? y : (tf.mul(y, share) as tf.Scalar);
  }, task.params.variables());
  const present = new Set<string>();
  for (const [vn, g] of Object.entries(grads)) {
    const name = task.params.nameOf(vn);
    const slot = name === undefined ? undefined : layout.byName.get(name);
    if (!slot) continue;
    out.set(g.dataSync() as Float32Array, slot.offset);
    present.add(slot.name);
  }
  for (const s of layout.slots) if (!present.has(s.name)) out.fill(0, s.offset, s.offset + s.size);
  const extras: Record<string, number> = {};
  for (const k of additiveExtras) if (extraT[k]) extras[k] = extraT[k].dataSync()[0]! * share;
  const result: SliceResult = {
    loss: value.dataSync()[0]!,
    nll: nllT!.dataSync()[0]! * share,
    extras,
    present: layout.slots.filter((s) => present.has(s.name)).map((s) => s.name),
  };
  tf.dispose([value, nllT!, ...Object.values(extraT), ...Object.values(grads)]);
  return result;
}
