/**
 * Faster paths for the two operations that dominate sequence-model training
 * on the WASM backend (tfjs 4.22), measured on this machine:
 *
 * - Batched matrix products. The backend sends a matMul to XNNPACK only when
 *   it has a single batch and no transpose flag (≈ 35–40 GFLOP/s); anything
 *   batched or transposed goes to a generic loop at ≈ 3 GFLOP/s. Attention is
 *   batched ([B·heads] small products), so `batchMatMul` below runs each
 *   batch entry as its own single-batch product on zero-copy views of the
 *   operands (tensors registered at offsets inside the parent buffers, the
 *   backend's own `makeOutput(shape, dtype, memoryOffset)` mechanism). Callers
 *   pass pre-transposed operands (tf.transpose is a cheap copy) rather than
 *   transpose flags.
 * - Row gathers (embedding lookups): the stock kernel checks every index in a
 *   closure and copies element by element (≈ 60 ms for 25,600 rows of 64);
 *   rows are copied here with one typed-array copy each (≈ 2 ms).
 *
 * - 2-D transposes: the stock kernel walks the output element by element
 *   (≈ 13 ms for [25600, 64]); a cache-blocked copy in JavaScript takes ≈ 5 ms.
 *
 * All fall back to the stock ops on other backends or when the backend's
 * internals do not look as expected (another tfjs version).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { causalAttentionScoreGrad, causalScoreGradEntry } from './kernels/causal-attention-grad.js';
import { layerNormBackward, layerNormForward } from './kernels/layer-norm.js';

export const BATCH_MATMUL_NN = 'RecpostBatchMatMulNN';
export const SUM_ROWS = 'RecpostSumRows';
export const LAYER_NORM = 'RecpostLayerNorm';
export const LAYER_NORM_GRAD = 'RecpostLayerNormGrad';
export const CAUSAL_SCORE_GRAD = 'RecpostCausalAttentionScoreGrad';
export const SOFTMAX_TARGET_LOGP = 'RecpostSoftmaxTargetLogProb';
export const CAUSAL_ATTENTION_BACKWARD = 'RecpostCausalAttentionBackward';
export const MASKED_ATTENTION_FORWARD = 'RecpostMaskedAttentionForward';

interface WasmInternals {
  dataIdMap: { get(id: object): { id: number; memoryOffset: number } | undefined; delete(id: object): void };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  readSync(dataId: object): unknown;
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
    tfjs: { disposeData(id: number): void };
    HEAPU8: Uint8Array;
  };
}

function internals(backend: unknown): WasmInternals | undefined {
  const b = backend as Partial<WasmInternals>;
  if (typeof b?.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') return undefined;
  if (!b.dataIdMap || typeof b.wasm?.cwrap !== 'function' || typeof b.wasm.tfjs?.disposeData !== 'function') return undefined;
  return b as WasmInternals;
}

/** The internals of the backend a kernel registered for WASM runs on (registered only when `internals` accepted it). */
function wasmBackend(backend: unknown, kernel: string): WasmInternals {
  const be = internals(backend);
  if (!be) throw new Error(`${kernel}: the WASM backend's internals are not as expected`);
  return be;
}

let wasmMatMul: ((...a: unknown[]) => void) | undefined;

/** A tensor record aliasing `shape` floats at `offset` of the heap (no allocation). */
function view(be: WasmInternals, offset: number, shape: number[]): { info: TensorInfo; id: number } {
  const info = be.makeOutput(shape, 'float32', offset);
  return { info, id: be.dataIdMap.get(info.dataId)!.id };
}

/** Forget a view without freeing its memory (it belongs to the parent tensor). */
function dropView(be: WasmInternals, v: { info: TensorInfo; id: number }): void {
  be.wasm.tfjs.disposeData(v.id);
  be.dataIdMap.delete(v.info.dataId);
}

const batchMatMulNN: KernelFunc = ({ inputs, backend }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const be = wasmBackend(backend, BATCH_MATMUL_NN);
  const [batch, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  wasmMatMul ??= be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const out = be.makeOutput([batch, m, n], 'float32');
  const offA = be.dataIdMap.get(a.dataId)!.memoryOffset;
  const offB = be.dataIdMap.get(b.dataId)!.memoryOffset;
  const offO = be.dataIdMap.get(out.dataId)!.memoryOffset;
  const aShape = new Uint8Array(new Int32Array([1, m, k]).buffer);
  const bShape = new Uint8Array(new Int32Array([1, k, n]).buffer);
  for (let i = 0; i < batch; i++) {
    const va = view(be, offA + i * m * k * 4, [1, m, k]);
    const vb = view(be, offB + i * k * n * 4, [1, k, n]);
    const vo = view(be, offO + i * m * n * 4, [1, m, n]);
    try {
      wasmMatMul(va.id, aShape, 3, vb.id, bShape, 3, false, false, vo.id);
    } finally {
      dropView(be, va);
      dropView(be, vb);
      dropView(be, vo);
    }
  }
  return out;
};

const causalScoreGradKernel: KernelFunc = ({ inputs, backend }) => {
  const { p, dp } = inputs as { p: TensorInfo; dp: TensorInfo };
  const be = wasmBackend(backend, CAUSAL_SCORE_GRAD);
  const [n, t] = p.shape as [number, number, number];
  const d = be.makeOutput([n, t, t], 'float32');
  const dT = be.makeOutput([n, t, t], 'float32');
  const pT = be.makeOutput([n, t, t], 'float32');
  // Views after makeOutput: allocation may have grown (moved) the heap.
  const f32 = (x: TensorInfo) => be.typedArrayFromHeap(x) as Float32Array;
  causalAttentionScoreGrad(f32(p), f32(dp), n, t, f32(d), f32(dT), f32(pT));
  return [d, dT, pT];
};

/**
 * The backward pass of causal attention (see `causalAttentionBackward`) one
 * batch entry at a time: dP, D, Dᵀ and Pᵀ of an entry live in four [T, T]
 * scratch buffers reused by every entry (≈ 640 KB, cache-resident) instead
 * of four [N, T, T] tensors written to memory and read back (≈ 40 MB each
 * for the benchmark's N = 256, T = 200: the separate kernels were bound by
 * that traffic). Same products on the same values as the unfused path.
 */
const causalAttentionBackwardKernel: KernelFunc = ({ inputs, backend }) => {
  const { p, dO, vT, k, qS } = inputs as { p: TensorInfo; dO: TensorInfo; vT: TensorInfo; k: TensorInfo; qS: TensorInfo };
  const be = wasmBackend(backend, CAUSAL_ATTENTION_BACKWARD);
  const [n, t] = p.shape as [number, number, number];
  const dh = dO.shape[2]!;
  wasmMatMul ??= be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const dQ = be.makeOutput([n, t, dh], 'float32');
  const dK = be.makeOutput([n, t, dh], 'float32');
  const dV = be.makeOutput([n, t, dh], 'float32');
  const scratch = [0, 1, 2, 3].map(() => be.makeOutput([t, t], 'float32'));
  const off = (x: TensorInfo) => be.dataIdMap.get(x.dataId)!.memoryOffset;
  const [offDP, offD, offDT, offPT] = scratch.map(off) as [number, number, number, number];
  const offP = off(p);
  const tt = t * t;
  const shapeTT = new Uint8Array(new Int32Array([1, t, t]).buffer);
  const shapeTD = new Uint8Array(new Int32Array([1, t, dh]).buffer);
  const shapeDT = new Uint8Array(new Int32Array([1, dh, t]).buffer);
  /** out = a · b on heap offsets, a [1, m, k] and b [1, k, n]. */
  const product = (offA: number, aShape: Uint8Array, a: number[], offB: number, bShape: Uint8Array, b: number[], offO: number) => {
    const va = view(be, offA, a);
    const vb = view(be, offB, b);
    const vo = view(be, offO, [1, a[1]!, b[2]!]);
    try {
      wasmMatMul!(va.id, aShape, 3, vb.id, bShape, 3, false, false, vo.id);
    } finally {
      dropView(be, va);
      dropView(be, vb);
      dropView(be, vo);
    }
  };
  try {
    const td = [1, t, dh];
    const tT = [1, t, t];
    for (let b = 0; b < n; b++) {
      const e = b * t * dh * 4;
      product(off(dO) + e, shapeTD, td, off(vT) + e, shapeDT, [1, dh, t], offDP);
      // Views after the product: XNNPACK may have grown (moved) the heap.
      const heap = be.wasm.HEAPU8.buffer;
      const f = (o: number) => new Float32Array(heap, o, tt);
      causalScoreGradEntry(f(offP + b * tt * 4), f(offDP), t, f(offD), f(offDT), f(offPT));
      product(offD, shapeTT, tT, off(k) + e, shapeTD, td, off(dQ) + e);
      product(offDT, shapeTT, tT, off(qS) + e, shapeTD, td, off(dK) + e);
      product(offPT, shapeTT, tT, off(dO) + e, shapeTD, td, off(dV) + e);
    }
  } finally {
    for (const s of scratch) (backend as unknown as { disposeData(id: object): void }).disposeData(s.dataId);
  }
  return [dQ, dK, dV];
};

let wasmSoftmax: ((...a: unknown[]) => void) | undefined;

/**
 * The forward pass of masked attention (see `maskedAttentionForward`) one
 * batch entry at a time: the entry's scores S = Qs·Kᵀ and S + mask live in
 * one [T, T] scratch buffer reused by every entry, the backend's own softmax
 * writes P straight into the saved [N, T, T] output, and P·V reads it while
 * it is in cache. The separate kernels wrote and read back two [N, T, T]
 * tensors besides P. Same values bit for bit: the mask is added in float32
 * (a float64 sum of two float32 values rounded to float32 is the float32
 * sum; adding a zero is skipped, which can only leave a −0 that the softmax
 * does not tell from +0), the softmax and the products are the same kernels.
 */
const maskedAttentionForwardKernel: KernelFunc = ({ inputs, backend }) => {
  const { qS, kT, v, mask } = inputs as { qS: TensorInfo; kT: TensorInfo; v: TensorInfo; mask: TensorInfo };
  const be = wasmBackend(backend, MASKED_ATTENTION_FORWARD);
  const [n, t, dh] = qS.shape as [number, number, number];
  const dv = v.shape[2]!;
  wasmMatMul ??= be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  wasmSoftmax ??= be.wasm.cwrap('Softmax', null, ['number', 'number', 'number', 'number']);
  const o = be.makeOutput([n, t, dv], 'float32');
  const p = be.makeOutput([n, t, t], 'float32');
  const scores = be.makeOutput([t, t], 'float32');
  const off = (x: TensorInfo) => be.dataIdMap.get(x.dataId)!.memoryOffset;
  const offS = off(scores);
  const idS = be.dataIdMap.get(scores.dataId)!.id;
  const tt = t * t;
  const shapeTD = new Uint8Array(new Int32Array([1, t, dh]).buffer);
  const shapeDT = new Uint8Array(new Int32Array([1, dh, t]).buffer);
  const shapeTT = new Uint8Array(new Int32Array([1, t, t]).buffer);
  const shapeTV = new Uint8Array(new Int32Array([1, t, dv]).buffer);
  try {
    for (let b = 0; b < n; b++) {
      const vq = view(be, off(qS) + b * t * dh * 4, [1, t, dh]);
      const vk = view(be, off(kT) + b * t * dh * 4, [1, dh, t]);
      const vs = view(be, offS, [1, t, t]);
      try {
        wasmMatMul(vq.id, shapeTD, 3, vk.id, shapeDT, 3, false, false, vs.id);
      } finally {
        dropView(be, vq);
        dropView(be, vk);
        dropView(be, vs);
      }
      // Views after the product: XNNPACK may have grown (moved) the heap.
      const heap = be.wasm.HEAPU8.buffer;
      const sc = new Float32Array(heap, offS, tt);
      const mk = new Float32Array(heap, off(mask), tt);
      for (let i = 0; i < tt; i++) {
        const m = mk[i]!;
        if (m !== 0) sc[i] = sc[i]! + m;
      }
      const vp = view(be, off(p) + b * tt * 4, [t, t]);
      try {
        wasmSoftmax(idS, vp.id, t, t);
      } finally {
        dropView(be, vp);
      }
      const vpa = view(be, off(p) + b * tt * 4, [1, t, t]);
      const vv = view(be, off(v) + b * t * dv * 4, [1, t, dv]);
      const vo = view(be, off(o) + b * t * dv * 4, [1, t, dv]);
      try {
        wasmMatMul(vpa.id, shapeTT, 3, vv.id, shapeTV, 3, false, false, vo.id);
      } finally {
        dropView(be, vpa);
        dropView(be, vv);
        dropView(be, vo);
      }
    }
  } finally {
    (backend as unknown as { disposeData(id: object): void }).disposeData(scores.dataId);
  }
  return [o, p];
};

const layerNormKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const be = wasmBackend(backend, LAYER_NORM);
  const [rows, n] = x.shape as [number, number];
  const y = be.makeOutput([rows, n], 'float32');
  const xhat = be.makeOutput([rows, n], 'float32');
  const rstd = be.makeOutput([rows, 1], 'float32');
  const f32 = (t: TensorInfo) => be.typedArrayFromHeap(t) as Float32Array;
  layerNormForward(f32(x), f32(gamma), f32(beta), rows, n, (attrs as { eps: number }).eps, f32(y), f32(xhat), f32(rstd));
  return [y, xhat, rstd];
};

const layerNormGradKernel: KernelFunc = ({ inputs, backend }) => {
  const { dy, xhat, rstd, gamma } = inputs as { dy: TensorInfo; xhat: TensorInfo; rstd: TensorInfo; gamma: TensorInfo };
  const be = wasmBackend(backend, LAYER_NORM_GRAD);
  const [rows, n] = dy.shape as [number, number];
  const dx = be.makeOutput([rows, n], 'float32');
  const dGamma = be.makeOutput([n], 'float32');
  const dBeta = be.makeOutput([n], 'float32');
  const f32 = (t: TensorInfo) => be.typedArrayFromHeap(t) as Float32Array;
  const accGamma = new Float64Array(n);
  const accBeta = new Float64Array(n);
  layerNormBackward(f32(dy), f32(xhat), f32(rstd), f32(gamma), rows, n, f32(dx), accGamma, accBeta);
  f32(dGamma).set(accGamma);
  f32(dBeta).set(accBeta);
  return [dx, dGamma, dBeta];
};

/** Gather rows (axis 0, no batch dims) by typed-array copies; other cases go to `fallback`. */
function makeRowGather(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    const be = internals(backend);
    if (!be || axis !== 0 || (batchDims ?? 0) !== 0 || x.shape.length < 1 || x.dtype === 'string' || x.dtype === 'complex64') return fallback(args);
    const rows = x.shape[0]!;
    const width = x.shape.slice(1).reduce((s, d) => s * d, 1);
    const idx = be.readSync(indices.dataId) as Int32Array;
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i]!;
      if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    }
    const out = be.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after makeOutput: allocation may have grown (moved) the heap.
    const src = be.typedArrayFromHeap(x);
    const dst = be.typedArrayFromHeap(out);
    if (width === 1) for (let i = 0; i < idx.length; i++) dst[i] = src[idx[i]!]!;
    else for (let i = 0; i < idx.length; i++) dst.set(src.subarray(idx[i]! * width, idx[i]! * width + width), i * width);
    return out;
  };
}

/**
 * Contiguous slices (row ranges: the softmax output layer's chunks) as one
 * typed-array copy of the part; the stock kernel first copies the whole
 * input out of the heap (readSync), ≈ 3.8 ms per row chunk of a
 * [25600, 64] tensor instead of ≈ 0.3 ms. Other slices go to `fallback`.
 */
function makeContiguousSlice(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: TensorInfo };
    const be = internals(backend);
    if (!be || (x.dtype !== 'float32' && x.dtype !== 'int32')) return fallback(args);
    const { begin, size } = attrs as { begin: number | number[]; size?: number | number[] };
    const [begin_, size_] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    if (!tf.slice_util.isSliceContinous(x.shape, begin_, size_)) return fallback(args);
    const start = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
    const n = tf.util.sizeFromShape(size_);
    const out = be.makeOutput(size_, x.dtype);
    // Views after makeOutput: allocation may have grown (moved) the heap.
    if (n > 0) be.typedArrayFromHeap(out).set(be.typedArrayFromHeap(x).subarray(start, start + n));
    return out;
  };
}

/**
 * dst[j, i] = src[i, j] for a [rows, cols] matrix, in square blocks (32 wide
 * for wide matrices, else 16), four source rows at a time so that each
 * inner step writes four consecutive destination elements (≈ 2.8× faster
 * than one row at a time for [25600, 64], 1.3× for [9868, 1700]).
 */
export function transpose2d(src: ArrayLike<number>, rows: number, cols: number, dst: { [i: number]: number }): void {
  const BLOCK = cols > 256 ? 32 : 16;
  for (let i0 = 0; i0 < rows; i0 += BLOCK) {
    const i1 = Math.min(rows, i0 + BLOCK);
    for (let j0 = 0; j0 < cols; j0 += BLOCK) {
      const j1 = Math.min(cols, j0 + BLOCK);
      let i = i0;
      for (; i + 3 < i1; i += 4) {
        const r0 = i * cols;
        const r1 = r0 + cols;
        const r2 = r1 + cols;
        const r3 = r2 + cols;
        for (let j = j0; j < j1; j++) {
          const w = j * rows + i;
          dst[w] = src[r0 + j]!;
          dst[w + 1] = src[r1 + j]!;
          dst[w + 2] = src[r2 + j]!;
          dst[w + 3] = src[r3 + j]!;
        }
      }
      for (; i < i1; i++) {
        const ro = i * cols;
        for (let j = j0; j < j1; j++) dst[j * rows + i] = src[ro + j]!;
      }
    }
  }
}

function makeTranspose(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: TensorInfo };
    const perm = (attrs as { perm: number[] }).perm;
    const be = internals(backend);
    if (!be || x.shape.length !== 2 || perm[0] !== 1 || perm[1] !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32')) return fallback(args);
    const [rows, cols] = x.shape as [number, number];
    const out = be.makeOutput([cols, rows], x.dtype);
    transpose2d(be.typedArrayFromHeap(x), rows, cols, be.typedArrayFromHeap(out));
    return out;
  };
}

/** Column sums of a [rows, cols] float32 matrix (the reduction kernel would transpose first). */
const sumRowsKernel: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const be = wasmBackend(backend, SUM_ROWS);
  const [rows, cols] = x.shape as [number, number];
  const acc = new Float64Array(cols);
  const out = be.makeOutput([cols], 'float32');
  const src = be.typedArrayFromHeap(x) as Float32Array;
  // Four rows per pass over acc (2.8× faster than one for [25600, 64]); pairs summed in float64, exact for float32 inputs of similar scale.
  let i = 0;
  for (; i + 3 < rows; i += 4) {
    const o0 = i * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    for (let j = 0; j < cols; j++) acc[j] = acc[j]! + (src[o0 + j]! + src[o1 + j]! + (src[o2 + j]! + src[o3 + j]!));
  }
  for (; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) acc[j] = acc[j]! + src[o + j]!;
  }
  (be.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
};

/**
 * out[r] = log p[r, t_r] for p = softmax(logits) [rows, cols] (see `softmaxTargetLogProb`);
 * a row whose p[r, t_r] is below `TINY_PROBABILITY` gets logits[r, t_r] − lse_r instead,
 * lse_r = logits[r, j*] − log p[r, j*] at the row's most probable column j*.
 */
export function softmaxTargetLogProbValues(logits: Float32Array, p: Float32Array, targets: Int32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const t = targets[r]!;
    if (!(t >= 0 && t < cols)) throw new Error(`${SOFTMAX_TARGET_LOGP}: the target ${t} is not in [0, ${cols - 1}]`);
    const pt = p[o + t]!;
    if (pt >= TINY_PROBABILITY) {
      out[r] = Math.log(pt);
      continue;
    }
    let best = 0;
    let pMax = p[o]!;
    for (let j = 1; j < cols; j++) {
      const x = p[o + j]!;
      if (x > pMax) {
        pMax = x;
        best = j;
      }
    }
    out[r] = logits[o + t]! - (logits[o + best]! - Math.log(pMax));
  }
}

/** Below this a float32 probability has lost precision to the subnormal range (2⁻¹²⁶ ≈ 1.2e-38), with margin. */
const TINY_PROBABILITY = 1e-30;

const softmaxTargetLogProbKernel: KernelFunc = ({ inputs, backend }) => {
  const { logits, p, targets } = inputs as { logits: TensorInfo; p: TensorInfo; targets: TensorInfo };
  const be = wasmBackend(backend, SOFTMAX_TARGET_LOGP);
  const [rows, cols] = logits.shape as [number, number];
  const out = be.makeOutput([rows], 'float32');
  // Views after makeOutput: allocation may have grown (moved) the heap.
  softmaxTargetLogProbValues(
    be.typedArrayFromHeap(logits) as Float32Array,
    be.typedArrayFromHeap(p) as Float32Array,
    be.typedArrayFromHeap(targets) as Int32Array,
    rows,
    cols,
    be.typedArrayFromHeap(out) as Float32Array,
  );
  return out;
};

/**
 * Identity (tf.clone, and every tensor a custom gradient saves for its
 * backward pass) as a second reference to the same immutable data, as the
 * CPU backend does, instead of the stock copy (≈ 80 ms of copies per
 * training step of the benchmark).
 */
const aliasIdentityKernel: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let registered = false;
let bmmAvailable = false;

/** Register the WASM fast paths (once); returns false if the backend's internals are not as expected. */
export function registerWasmFastKernels(): boolean {
  if (registered) return bmmAvailable;
  registered = true;
  const backend = tf.findBackend('wasm');
  if (!internals(backend)) return false;
  tf.registerKernel({ kernelName: BATCH_MATMUL_NN, backendName: 'wasm', kernelFunc: batchMatMulNN });
  tf.registerKernel({ kernelName: SUM_ROWS, backendName: 'wasm', kernelFunc: sumRowsKernel });
  tf.registerKernel({ kernelName: LAYER_NORM, backendName: 'wasm', kernelFunc: layerNormKernel });
  tf.registerKernel({ kernelName: LAYER_NORM_GRAD, backendName: 'wasm', kernelFunc: layerNormGradKernel });
  tf.registerKernel({ kernelName: CAUSAL_SCORE_GRAD, backendName: 'wasm', kernelFunc: causalScoreGradKernel });
  tf.registerKernel({ kernelName: SOFTMAX_TARGET_LOGP, backendName: 'wasm', kernelFunc: softmaxTargetLogProbKernel });
  tf.registerKernel({ kernelName: CAUSAL_ATTENTION_BACKWARD, backendName: 'wasm', kernelFunc: causalAttentionBackwardKernel });
  tf.registerKernel({ kernelName: MASKED_ATTENTION_FORWARD, backendName: 'wasm', kernelFunc: maskedAttentionForwardKernel });
  if (typeof Reflect.get(backend as object, 'incRef') === 'function' && tf.getKernel(tf.Identity, 'wasm')) {
    tf.unregisterKernel(tf.Identity, 'wasm');
    tf.registerKernel({ kernelName: tf.Identity, backendName: 'wasm', kernelFunc: aliasIdentityKernel });
  }
  const stock = tf.getKernel(tf.GatherV2, 'wasm');
  if (stock) {
    tf.unregisterKernel(tf.GatherV2, 'wasm');
    tf.registerKernel({ kernelName: tf.GatherV2, backendName: 'wasm', kernelFunc: makeRowGather(stock.kernelFunc) });
  }
  const stockSlice = tf.getKernel(tf.Slice, 'wasm');
  if (stockSlice) {
    tf.unregisterKernel(tf.Slice, 'wasm');
    tf.registerKernel({ kernelName: tf.Slice, backendName: 'wasm', kernelFunc: makeContiguousSlice(stockSlice.kernelFunc) });
  }
  const stockTranspose = tf.getKernel(tf.Transpose, 'wasm');
  if (stockTranspose) {
    tf.unregisterKernel(tf.Transpose, 'wasm');
    tf.registerKernel({ kernelName: tf.Transpose, backendName: 'wasm', kernelFunc: makeTranspose(stockTranspose.kernelFunc) });
  }
  bmmAvailable = true;
  return true;
}

/**
 * a [batch, m, k] · b [batch, k, n] → [batch, m, n] (no broadcasting, no
 * transposes). Not differentiable on its own: used inside custom gradients.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) throw new Error(`batchMatMul: shapes [${a.shape}] and [${b.shape}] do not chain`);
  if (bmmAvailable && tf.getBackend() === 'wasm' && a.dtype === 'float32' && b.dtype === 'float32')
    return tf.engine().runKernel(BATCH_MATMUL_NN, { a, b }, {}) as tf.Tensor3D;
  return tf.matMul(a, b);
}

/** Σ over the rows of x [M, n] → [n] (not differentiable on its own). */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  if (bmmAvailable && tf.getBackend() === 'wasm' && x.dtype === 'float32') return tf.engine().runKernel(SUM_ROWS, { x }, {}) as tf.Tensor1D;
  return tf.sum(x, 0);
}

/** a [m, k] · b [k, n] with explicit transposes instead of flags (fast path on WASM). */
export function matMulNN(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b));
}

/** x [batch, m, n] → [batch, n, m]. */
export function transposeLast(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

/**
 * log p[m, t_m] for p = softmax(logits) [M, n] and column indices t [M] → [M]:
 * log π(t | h) read off the softmax, with no further pass over [M × n]. As
 * accurate as l_t − log Σ exp(l) while p_t is a normal float; rows whose
 * p_t is tiny fall back to that form (log Σ exp = l_{j*} − log p_{j*} at the
 * most probable column, whose probability is at least 1/n).
 */
export function softmaxTargetLogProb(logits: tf.Tensor2D, p: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  if (bmmAvailable && tf.getBackend() === 'wasm' && logits.dtype === 'float32' && p.dtype === 'float32' && targets.dtype === 'int32')
    return tf.engine().runKernel(SOFTMAX_TARGET_LOGP, { logits, p, targets }, {}) as tf.Tensor1D;
  return tf.tidy(() => {
    const lse = tf.sub(tf.max(logits, 1), tf.log(tf.max(p, 1)));
    const picked = tf.sum(tf.mul(logits, tf.oneHot(targets, logits.shape[1])), 1);
    return tf.sub(picked, lse);
  });
}

/**
 * For causal attention probabilities P [N, T, T] (zero above each diagonal)
 * and dP = ∂L/∂P: [D, Dᵀ, Pᵀ] with D = P ⊙ (dP − rowsum(dP ⊙ P)) (see
 * kernels/causal-attention-grad.ts). Not differentiable on its own.
 */
export function causalScoreGrad(p: tf.Tensor3D, dp: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  if (bmmAvailable && tf.getBackend() === 'wasm' && p.dtype === 'float32' && dp.dtype === 'float32')
    return tf.engine().runKernel(CAUSAL_SCORE_GRAD, { p, dp }, {}) as unknown as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
  return tf.tidy(() => {
    const d = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))) as tf.Tensor3D;
    return [d, transposeLast(d), transposeLast(p)];
  });
}

/**
 * [D·K, Dᵀ·Qs, Pᵀ·dO] for causal attention probabilities P [N, T, T] (zero
 * above each diagonal), the output's gradient dO [N, T, dh], Vᵀ [N, dh, T],
 * K and Qs [N, T, dh], with dP = dO·Vᵀ and D = P ⊙ (dP − rowsum(dP ⊙ P)):
 * the three products of the attention backward (maskedAttention) fused with
 * the score gradient, per batch entry. WASM only (see
 * `fusedAttentionBackwardAvailable`); not differentiable on its own.
 */
export function causalAttentionBackward(
  p: tf.Tensor3D,
  dO: tf.Tensor3D,
  vT: tf.Tensor3D,
  k: tf.Tensor3D,
  qS: tf.Tensor3D,
): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  return tf.engine().runKernel(CAUSAL_ATTENTION_BACKWARD, { p, dO, vT, k, qS }, {}) as unknown as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
}

/**
 * [O, P] with P = softmax(Qs·Kᵀ + mask) [N, T, T] and O = P·V, for
 * Qs [N, T, dh], Kᵀ [N, dh, T], V [N, T, dv], mask [T, T]: the forward of
 * maskedAttention per batch entry (see maskedAttentionForwardKernel). WASM
 * only (see `fusedAttentionBackwardAvailable`); not differentiable on its own.
 */
export function maskedAttentionForward(qS: tf.Tensor3D, kT: tf.Tensor3D, v: tf.Tensor3D, mask: tf.Tensor2D): [tf.Tensor3D, tf.Tensor3D] {
  return tf.engine().runKernel(MASKED_ATTENTION_FORWARD, { qS, kT, v, mask }, {}) as unknown as [tf.Tensor3D, tf.Tensor3D];
}

/** Whether `causalAttentionBackward` runs for these float32 tensors (the WASM fast kernels are registered and active). */
export function fusedAttentionBackwardAvailable(...ts: tf.Tensor[]): boolean {
  return fusedLayerNormAvailable(...ts);
}

/** Whether the fused layer-norm kernels (kernels/layer-norm.ts) run for these float32 tensors. */
export function fusedLayerNormAvailable(...ts: tf.Tensor[]): boolean {
  return bmmAvailable && tf.getBackend() === 'wasm' && ts.every((t) => t.dtype === 'float32');
}

/** [y, x̂, r] of layer normalisation of x [M, n] (see kernels/layer-norm.ts); WASM only (fusedLayerNormAvailable). */
export function fusedLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as unknown as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
}

/** [∂x, ∂γ, ∂β] of layer normalisation (see kernels/layer-norm.ts); WASM only (fusedLayerNormAvailable). */
export function fusedLayerNormGrad(dy: tf.Tensor2D, xhat: tf.Tensor2D, rstd: tf.Tensor2D, gamma: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, xhat, rstd, gamma }, {}) as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
}
