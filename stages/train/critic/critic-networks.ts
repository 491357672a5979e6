/**
 * The critic networks of the value-based baselines (IQL, CRR, BPPO, DRPO-Q;
 * SPEC S10) for the Gaussian embedding policy: Q(s, a) an MLP on the
 * concatenation [s, e_a] and V(s) an MLP on the state, both ReLU hidden
 * layers and one linear output. s is the policy's state (the mean context
 * embedding) and e_a the action's item embedding, so Q is defined for any
 * point of the action space, including actions sampled from the policy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { linear } from '../fast-ops.js';
import { ParamStore } from '../params.js';

/** An MLP's parameters `<prefix>/w<l>`, `<prefix>/b<l>` from `inputDim` through `hidden` to one output. */
export function createMlp(store: ParamStore, prefix: string, inputDim: number, hidden: readonly number[], seed: number): void {
  const sizes = [inputDim, ...hidden, 1];
  for (let l = 0; l + 1 < sizes.length; l++) {
    store.init(`${prefix}/w${l}`, [sizes[l]!, sizes[l + 1]!], { kind: 'glorot' }, seed);
    store.init(`${prefix}/b${l}`, [sizes[l + 1]!], { kind: 'zeros' }, seed);
  }
}

/** The MLP's output [rows] for inputs x [rows, inputDim]. */
export function mlpOutput(store: ParamStore, prefix: string, layers: number, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    let h = x;
    for (let l = 0; l < layers; l++) h = linear(h, store.get(`${prefix}/w${l}`) as tf.Tensor2D, store.get(`${prefix}/b${l}`) as tf.Tensor1D, l + 1 < layers);
    return tf.reshape(h, [x.shape[0]]) as tf.Tensor1D;
  });
}

/** Q(s, a) for aligned rows of states and action embeddings, both [rows, d]. */
export function qOutput(store: ParamStore, layers: number, states: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => mlpOutput(store, 'q', layers, tf.concat([states, actions], 1) as tf.Tensor2D));
}

/** V(s) for states [rows, d]. */
export function vOutput(store: ParamStore, layers: number, states: tf.Tensor2D): tf.Tensor1D {
  return mlpOutput(store, 'v', layers, states);
}
