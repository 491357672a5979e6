/**
 * Adam (Kingma & Ba, 2015) with optional decoupled weight decay (AdamW) and
 * global-norm gradient clipping, on named parameters.
 *
 * Written here rather than using tf.train.adam because a checkpoint must
 * resume bit for bit: tfjs's optimizer keys its moments by process-global
 * variable names and, on restore, recomputes β^t with `pow` where training
 * multiplied step by step, so a resumed run drifts in the last bits. Here the
 * bias corrections 1 − β^t are computed in double precision from the integer
 * step t, and the state is (t, m, v) by parameter name.
 *
 *   g ← s·g, s = min(1, clip / ‖g‖₂) over all parameters jointly
 *   m ← β₁m + (1−β₁)g;   v ← β₂v + (1−β₂)g²
 *   θ ← θ − lr·( m̂/(√v̂ + ε) + wd·θ ),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray, ParamStore } from './params.js';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (AdamW); 0 = plain Adam. */
  weightDecay: number;
}

export const DEFAULT_ADAM: AdamConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** √(Σ ‖g‖²) over gradient tensors (one synchronous read). */
export function globalNorm(grads: readonly tf.Tensor[]): number {
  if (grads.length === 0) return 0;
  const sq = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const v = sq.dataSync()[0]!;
  sq.dispose();
  return Math.sqrt(v);
}

/** The factor min(1, clip/norm) of global-norm clipping (clip ≤ 0: off). */
export function clipScale(norm: number, clip: number): number {
  if (!(clip > 0) || !Number.isFinite(norm) || norm <= clip) return 1;
  return clip / norm;
}

export class Adam {
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: ParamStore,
    readonly config: AdamConfig,
    /** Parameters this optimiser updates (default: all). */
    names: readonly string[] = params.names(),
  ) {
    for (const name of names) {
      const p = params.get(name);
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  get step(): number {
    return this.t;
  }

  /**
   * One update from gradients keyed by our parameter names (missing names
   * are left untouched, their moments too), each multiplied by `scale`.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, scale = 1, lr = this.config.lr): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.config;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    tf.tidy(() => {
      for (const [name, g0] of grads) {
        const p = this.params.get(name);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(m1);
        v.assign(v1);
        // step = lr/bc1 · m / (√(v/bc2) + ε)
        let update = tf.div(tf.mul(m1, lr / bc1), tf.add(tf.sqrt(tf.mul(v1, 1 / bc2)), eps));
        if (weightDecay > 0) update = tf.add(update, tf.mul(p, lr * weightDecay));
        p.assign(tf.sub(p, update));
      }
    });
  }

  /** (t, m, v) for a checkpoint; arrays named `m/<param>` and `v/<param>`. */
  state(): { step: number; arrays: NamedArray[] } {
    const arrays: NamedArray[] = [];
    for (const [name, m] of this.m) arrays.push({ name: `m/${name}`, shape: [...m.shape], data: m.dataSync() as Float32Array });
    for (const [name, v] of this.v) arrays.push({ name: `v/${name}`, shape: [...v.shape], data: v.dataSync() as Float32Array });
    return { step: this.t, arrays };
  }

  load(step: number, arrays: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
    for (const [kind, store] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, variable] of store) {
        const a = arrays.get(`${kind}/${name}`);
        if (!a) throw new Error(`checkpoint: optimiser state "${kind}/${name}" is missing`);
        tf.tidy(() => variable.assign(tf.tensor(a.data, variable.shape, 'float32')));
      }
    }
    this.t = step;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
