/** Kernel tests' runner: compute on one backend (with the training kernels registered) and return plain arrays, to compare backends. */
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingKernels } from '../../stages/train/training-kernels.js';

/** Run f on a backend and return plain arrays. */
export async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  registerTrainingKernels(backend);
  const out = tf.tidy(f);
  const arrays = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return arrays;
}
