/**
 * Kernels training needs that the stock backends lack or do badly.
 *
 * `UnsortedSegmentSum` is the gradient of `gather` (every embedding table):
 * - the WASM backend (tfjs 4.22) has no kernel for it, so the gradient of an
 *   embedding lookup throws there;
 * - the CPU backend's kernel loops over segments and masks the whole input for
 *   each one, O(numSegments · N · d): for a 1,700-item table and 25K looked-up
 *   rows that is ~3·10⁹ operations per step.
 * Both get the same direct O(N · d) accumulation in JavaScript, reading the
 * inputs synchronously from the backend and writing the output in place.
 * Segment ids outside [0, numSegments) are dropped (TensorFlow's semantics).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { registerWasmFastKernels } from './wasm-kernels.js';

type Values = Float32Array | Int32Array | Uint8Array;

/** out[ids[i], j] += x[i, j] for the flattened trailing dims j; pure function on typed arrays. */
export function unsortedSegmentSumValues(x: ArrayLike<number>, ids: ArrayLike<number>, numSegments: number, out: Float32Array | Int32Array): void {
  const n = ids.length;
  const inner = n === 0 ? 0 : x.length / n;
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = out[dst + j]! + x[src + j]!;
  }
}

function outputShape(x: TensorInfo, segmentIds: TensorInfo, numSegments: number): number[] {
  return [numSegments, ...x.shape.slice(segmentIds.shape.length)];
}

interface WasmLikeBackend {
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Values;
}

interface CpuLikeBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Values): TensorInfo;
}

function hasFunctions<T>(b: unknown, names: string[]): b is T {
  return typeof b === 'object' && b !== null && names.every((n) => typeof Reflect.get(b, n) === 'function');
}

/** The backend a kernel runs on, seen through the methods the kernel uses. */
function backendWith<T>(backend: unknown, names: string[]): T {
  if (!hasFunctions<T>(backend, names)) throw new Error(`UnsortedSegmentSum: the backend lacks ${names.join(', ')}`);
  return backend;
}

const wasmSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const b = backendWith<WasmLikeBackend>(backend, ['readSync', 'makeOutput', 'typedArrayFromHeap']);
  const out = b.makeOutput(outputShape(x, segmentIds, numSegments), x.dtype);
  // Views of the heap after allocating (allocation may grow and move it), not copies of the inputs.
  const ov = b.typedArrayFromHeap(out) as Float32Array | Int32Array;
  ov.fill(0);
  unsortedSegmentSumValues(b.typedArrayFromHeap(x), b.typedArrayFromHeap(segmentIds) as Int32Array, numSegments, ov);
  return out;
};

const cpuSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const b = backendWith<CpuLikeBackend>(backend, ['readSync', 'makeTensorInfo']);
  const xv = b.readSync(x.dataId) as Values;
  const ids = b.readSync(segmentIds.dataId) as Int32Array;
  const shape = outputShape(x, segmentIds, numSegments);
  const size = shape.reduce((a, c) => a * c, 1);
  const ov = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  unsortedSegmentSumValues(xv, ids, numSegments, ov);
  return b.makeTensorInfo(shape, x.dtype, ov);
};

const KERNELS: Record<string, KernelFunc> = { wasm: wasmSegmentSum, cpu: cpuSegmentSum };

/**
 * Register the training kernels for a backend (idempotent). Returns the
 * kernel names registered or replaced, for the start-up line.
 */
export function registerTrainingKernels(backendName: string): string[] {
  if (backendName === 'wasm') registerWasmFastKernels();
  if (backendName === 'cpu') {
    // The CPU backend prints a multi-line "install tfjs-node" banner on first
    // use; the backend start-up line and the README say it once.
    const b = tf.findBackend('cpu');
    if (b) Reflect.set(b, 'firstUse', false);
  }
  const fn = KERNELS[backendName];
  if (!fn) return [];
  const existing = tf.getKernel(tf.UnsortedSegmentSum, backendName);
  if (existing?.kernelFunc === fn) return [];
  if (existing) tf.unregisterKernel(tf.UnsortedSegmentSum, backendName);
  const config: KernelConfig = { kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc: fn };
  tf.registerKernel(config);
  return [tf.UnsortedSegmentSum];
}
