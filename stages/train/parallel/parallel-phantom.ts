/**
 * The phantom-gradient monitor (phantom-gradient.ts) with data-parallel
 * gradients: the policy term's gradient under the kept and the rejected
 * weights, each summed over the threads' slices, then the same records.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OfflineTask, PreparedBatch } from '../offline-trainer.js';
import { gradSquares, phantomRecords } from '../phantom-gradient.js';
import type { DataParallelGradients } from './data-parallel.js';

export async function parallelPhantomNorms<P extends PreparedBatch>(
  parallel: DataParallelGradients<P>,
  task: OfflineTask<P>,
  batch: P,
  kept: Float32Array,
  rejected: Float32Array,
  step: number,
): Promise<Record<string, number>> {
  const squares = async (weights: Float32Array) => {
    const g = await parallel.gradients(batch, weights, step, 'policy');
    try {
      return gradSquares(task, g.named);
    } finally {
      tf.dispose([...g.named.values()]);
    }
  };
  const k = await squares(kept);
  const r = await squares(rejected);
  return phantomRecords(k, r);
}
