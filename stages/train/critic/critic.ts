/**
 * A learned critic for the contextual bandit of the RecSim log (one step:
 * context s, item a, reward r; SPEC S10), as IQL trains it (Kostrikov et al.
 * 2021, Eqs. 5–6 with no next state):
 *
 *   L_Q = mean (Q(s, a) − r)²                       (regression on the logged reward)
 *   L_V = mean L_τ(Q̄(s, a) − V(s))                  (expectile regression, expectile.ts)
 *   Q̄ ← (1 − α)·Q̄ + α·Q  after every step           (the target Q, Polyak rate α)
 *
 * over the logged (s, a) only. With τ = 0.5, V(s) is the conditional mean of
 * Q̄ over the behaviour policy's actions, i.e. the behaviour value; τ > 0.5
 * moves it toward the best logged actions. Every random draw is keyed by the
 * seed, so the same data and options give the same critic.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Adam, DEFAULT_ADAM } from '../adam.js';
import { ParamStore } from '../params.js';
import { permutation, streamFor } from '../rng.js';
import { createMlp, qOutput, vOutput } from './critic-networks.js';
import { expectileLossTensor } from './expectile.js';

/** Stream purpose of the critic's epoch shuffles (apart from the policy trainer's purposes in rng.ts). */
const CRITIC_SHUFFLE = 41;

export interface CriticOptions {
  hidden: readonly number[];
  epochs: number;
  batchSize: number;
  lr: number;
  /** Expectile τ of V (0.5 = the mean). */
  tau: number;
  /** Polyak rate α of the target Q. */
  targetRate: number;
  seed: number;
}

/** The logged examples a critic is fitted on. */
export interface CriticData {
  dim: number;
  /** [N × dim] states. */
  states: Float32Array;
  /** Logged item of each row. */
  actions: Int32Array;
  rewards: Float64Array;
  numRows: number;
}

export interface CriticFit {
  critic: LearnedCritic;
  /** Mean L_Q and L_V of the last epoch. */
  qLoss: number;
  vLoss: number;
  steps: number;
}

/** Gather rows' states and action embeddings into flat arrays. */
function gather(data: CriticData, itemEmb: Float32Array, rows: ArrayLike<number>): { s: Float32Array; a: Float32Array; r: Float32Array } {
  const d = data.dim;
  const n = rows.length;
  const s = new Float32Array(n * d);
  const a = new Float32Array(n * d);
  const r = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const i = rows[j]!;
    s.set(data.states.subarray(i * d, i * d + d), j * d);
    const item = data.actions[i]!;
    a.set(itemEmb.subarray(item * d, item * d + d), j * d);
    r[j] = data.rewards[i]!;
  }
  return { s, a, r };
}

export class LearnedCritic {
  constructor(
    private readonly params: ParamStore,
    private readonly layers: number,
    readonly dim: number,
  ) {}

  /** Q(s, a) for aligned rows (states and action embeddings [rows × dim]). */
  q(states: Float32Array, actions: Float32Array): Float64Array {
    const n = states.length / this.dim;
    const t = tf.tidy(() => qOutput(this.params, this.layers, tf.tensor2d(states, [n, this.dim]), tf.tensor2d(actions, [n, this.dim])));
    const out = Float64Array.from(t.dataSync());
    t.dispose();
    return out;
  }

  /** V(s) for states [rows × dim]. */
  v(states: Float32Array): Float64Array {
    const n = states.length / this.dim;
    const t = tf.tidy(() => vOutput(this.params, this.layers, tf.tensor2d(states, [n, this.dim])));
    const out = Float64Array.from(t.dataSync());
    t.dispose();
    return out;
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** Fit Q and V (and the target Q) on the logged examples; see the module comment for the losses. */
export function fitCritic(data: CriticData, itemEmb: Float32Array, o: CriticOptions): CriticFit {
  if (data.numRows === 0) throw new Error('critic: no training rows');
  const d = data.dim;
  const layers = o.hidden.length + 1;
  const params = new ParamStore(true);
  createMlp(params, 'q', 2 * d, o.hidden, o.seed);
  createMlp(params, 'v', d, o.hidden, o.seed);
  const target = params.clone(false);
  const adam = new Adam(params, { ...DEFAULT_ADAM, lr: o.lr });
  const qNames = params.names().filter((n) => n.startsWith('q/'));
  let qLoss = NaN;
  let vLoss = NaN;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = permutation(data.numRows, streamFor(o.seed, CRITIC_SHUFFLE, epoch));
      let qSum = 0;
      let vSum = 0;
      let steps = 0;
      for (let start = 0; start < data.numRows; start += o.batchSize) {
        const rows = order.subarray(start, Math.min(data.numRows, start + o.batchSize));
        const { s, a, r } = gather(data, itemEmb, rows);
        const n = rows.length;
        const S = tf.tensor2d(s, [n, d]);
        const A = tf.tensor2d(a, [n, d]);
        const R = tf.tensor1d(r);
        const qTarget = qOutput(target, layers, S, A);
        let parts: number[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const lq = tf.mean(tf.square(tf.sub(qOutput(params, layers, S, A), R))) as tf.Scalar;
          const lv = expectileLossTensor(qTarget, vOutput(params, layers, S), o.tau);
          parts = [lq.dataSync()[0]!, lv.dataSync()[0]!];
          return tf.add(lq, lv) as tf.Scalar;
        }, params.variables());
        const named = new Map<string, tf.Tensor>();
        for (const [vn, g] of Object.entries(grads)) named.set(params.nameOf(vn)!, g);
        adam.apply(named);
        tf.dispose([value, S, A, R, qTarget, ...named.values()]);
        // Polyak update of the target Q.
        tf.tidy(() => {
          for (const name of qNames) target.get(name).assign(tf.add(tf.mul(target.get(name), 1 - o.targetRate), tf.mul(params.get(name), o.targetRate)));
        });
        qSum += parts[0]!;
        vSum += parts[1]!;
        steps++;
      }
      qLoss = qSum / steps;
      vLoss = vSum / steps;
    }
    return { critic: new LearnedCritic(params, layers, d), qLoss, vLoss, steps: adam.step };
  } catch (e) {
    params.dispose();
    throw e;
  } finally {
    adam.dispose();
    target.dispose();
  }
}
