/**
 * One optimiser step of the online trainer: gradients of the step's loss
 * with respect to the policy's trained parameters (and an algorithm's
 * companion parameters, PPO's value head), each group clipped to `clipNorm`
 * by its global norm, then Adam; and the averages over the inner steps that
 * the records report.
 */
import * as tf from '@tensorflow/tfjs-core';
import { clipScale, globalNorm, type Adam } from './adam.js';
import type { CompanionParams, StepLoss } from './advantage-source.js';
import type { ParamStore } from './params.js';

export interface StepResult {
  loss: number;
  /** Global norm of the policy's gradient before clipping. */
  gradNorm: number;
  parts: Record<string, number>;
}

/**
 * Minimise `lossOf()` by one step; `policyVars` are the policy's trained variables (in `policy`).
 * `lr` (a scheduled rate) replaces the policy optimiser's rate for this step; the companion's rate is scaled alike.
 */
export function optimiserStep(
  policy: ParamStore,
  policyVars: tf.Variable[],
  adam: Adam,
  companion: CompanionParams | undefined,
  clipNorm: number,
  lossOf: () => StepLoss,
  lr?: number,
): StepResult {
  let parts: Record<string, tf.Scalar> = {};
  const vars = companion ? [...policyVars, ...companion.params.variables()] : policyVars;
  const { value, grads } = tf.variableGrads(() => {
    const out = lossOf();
    parts = Object.fromEntries(Object.entries(out.parts).map(([k, t]) => [k, tf.keep(t)]));
    return out.loss;
  }, vars);
  const policyGrads = new Map<string, tf.Tensor>();
  const companionGrads = new Map<string, tf.Tensor>();
  for (const [vn, g] of Object.entries(grads)) {
    const pn = policy.nameOf(vn);
    if (pn) policyGrads.set(pn, g);
    else companionGrads.set(companion!.params.nameOf(vn)!, g);
  }
  const norm = globalNorm([...policyGrads.values()]);
  adam.apply(policyGrads, clipScale(norm, clipNorm), lr ?? adam.config.lr);
  if (companion) {
    const companionLr = lr === undefined ? companion.adam.config.lr : lr * (companion.adam.config.lr / adam.config.lr);
    companion.adam.apply(companionGrads, clipScale(globalNorm([...companionGrads.values()]), clipNorm), companionLr);
  }
  const loss = value.dataSync()[0]!;
  const partValues = Object.fromEntries(Object.entries(parts).map(([k, t]) => [k, t.dataSync()[0]!]));
  tf.dispose([value, ...Object.values(grads), ...Object.values(parts)]);
  return { loss, gradNorm: norm, parts: partValues };
}

/** Means over the inner steps of one update: loss, grad_norm, then the loss's parts in their order. */
export class StepAverages {
  private steps = 0;
  private loss = 0;
  private gradNorm = 0;
  private readonly parts = new Map<string, number>();

  add(r: StepResult): void {
    this.steps++;
    this.loss += r.loss;
    this.gradNorm += r.gradNorm;
    for (const [k, v] of Object.entries(r.parts)) this.parts.set(k, (this.parts.get(k) ?? 0) + v);
  }

  /** The figures to record (none when no step was taken). */
  figures(): Record<string, number> {
    if (this.steps === 0) return {};
    const out: Record<string, number> = { loss: this.loss / this.steps, grad_norm: this.gradNorm / this.steps };
    for (const [k, v] of this.parts) out[k] = v / this.steps;
    return out;
  }
}
