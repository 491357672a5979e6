/**
 * Where an epoch of the training benchmark (bench/train.ts's workload) spends
 * its time, on one WASM thread: every kernel of a few optimiser steps timed
 * through tf.profile (the WASM backend runs kernels synchronously, so a
 * kernel's time is its wall time), grouped by kernel and input shapes and
 * attributed to a part of the model by those shapes; JavaScript outside the
 * kernels (dropout masks, the trainer) is the step time minus the kernels'.
 * Matrix products report GFLOP/s against a 1024² product on this machine.
 *
 *   npx tsx bench/train-profile.ts [steps]       (default 3 steps after a warm-up step)
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../stages/train/backend.js';
import { dropoutMask } from '../stages/train/nn.js';
import { Rng } from '../stages/train/rng.js';
import { createSasrecParams, type SasrecConfig } from '../stages/train/sasrec.js';
import { sasrecTask } from '../stages/train/sasrec-task.js';
import { benchSequences } from './train.js';

const NUM_ITEMS = 1701;
const SEQ_LEN = 200;
const BATCH = 128;

interface Group {
  kernel: string;
  shapes: string;
  part: string;
  ms: number;
  calls: number;
  flops: number;
}

/** Which part of the model a kernel call belongs to, from its name and input shapes. */
function partOf(kernel: string, shapes: number[][]): string {
  const dims = shapes.flat();
  if (dims.includes(NUM_ITEMS) || dims.includes(NUM_ITEMS - 1)) return 'output layer (softmax over the catalog) and its gradient';
  if (kernel === 'RecpostBatchMatMulNN' || kernel === 'BatchMatMul' || kernel === 'Softmax') return 'attention';
  if (kernel === 'GatherV2' || kernel === 'UnsortedSegmentSum') return 'embeddings (lookups, gradients)';
  if (kernel.includes('MatMul')) return 'dense layers (q/k/v/out/ffn) and their gradients';
  if (kernel === 'Transpose' || kernel === 'Reshape') return 'layout (head split/merge transposes)';
  return 'elementwise, layer norm, reductions';
}

/** 2·m·k·n of a matrix product from its input shapes (batched: times the batch). */
function matMulFlops(kernel: string, shapes: number[][]): number {
  if (!kernel.includes('MatMul') || shapes.length < 2) return 0;
  const a = shapes[0]!;
  const b = shapes[1]!;
  if (a.length < 2 || b.length < 2) return 0;
  const batch = a.length === 3 ? a[0]! : 1;
  const m = a[a.length - 2]!;
  const k = a[a.length - 1]!;
  const n = b[b.length - 1]! === k ? b[b.length - 2]! : b[b.length - 1]!;
  return 2 * batch * m * k * n;
}

function peakGflops(): number {
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  tf.matMul(a, b).dispose();
  const reps = 5;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.matMul(a, b).dataSync();
  const s = (performance.now() - t0) / 1000;
  tf.dispose([a, b]);
  return (reps * 2 * 1024 ** 3) / s / 1e9;
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 3);
  const info = await initBackend('wasm');
  const data = benchSequences(1000, SEQ_LEN, NUM_ITEMS, 1);
  const config: SasrecConfig = { numItems: NUM_ITEMS, maxLen: SEQ_LEN, d: 64, blocks: 2, heads: 2, ffn: 64, dropout: 0.2, rewardHead: false, rewardHidden: 1 };
  const params = createSasrecParams(config, 1);
  const task = sasrecTask(params, config, data, { softmax: 'full', negatives: 0, negativeAlpha: 0, rewardWeight: 0, detachRewardHead: true, seed: 1 });
  const rows = (s: number) => Int32Array.from({ length: BATCH }, (_, i) => (s * BATCH + i) % data.numRows);
  const step = (s: number) => {
    const prep = task.prepare(rows(s));
    const w = new Float32Array(prep.rewards.length).fill(1);
    const { value, grads } = tf.variableGrads(() => task.loss(prep, w, s).loss, params.variables());
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(0); // warm-up

  let prepareMs = 0;
  for (let s = 1; s <= steps; s++) {
    const p0 = performance.now();
    task.prepare(rows(s));
    prepareMs += performance.now() - p0;
  }
  const groups = new Map<string, Group>();
  let kernelMs = 0;
  let stepMs = 0;
  for (let s = 1; s <= steps; s++) {
    const s0 = performance.now();
    const prof = await tf.profile(() => step(s));
    stepMs += performance.now() - s0;
    for (const k of prof.kernels) {
      // Composite ops (custom gradients, op wrappers) are listed with the kernels they run: count the kernels only.
      if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue;
      const shapes = k.inputShapes.map((x) => [...(x ?? [])]);
      const key = `${k.name} ${JSON.stringify(shapes)}`;
      const g = groups.get(key) ?? { kernel: k.name, shapes: JSON.stringify(shapes), part: partOf(k.name, shapes), ms: 0, calls: 0, flops: 0 };
      const ms = k.kernelTimeMs as number;
      g.ms += ms;
      g.calls++;
      g.flops += matMulFlops(k.name, shapes);
      kernelMs += ms;
      groups.set(key, g);
    }
  }
  // Dropout masks: the step's 1 + 4·blocks masks over [B·T, 64], generated in JavaScript.
  const m0 = performance.now();
  for (let l = 0; l < 1 + 4 * config.blocks; l++) dropoutMask(BATCH * SEQ_LEN * 64, 0.2, new Rng(1, 3, 0, l));
  const maskMs = performance.now() - m0;
  const peak = peakGflops();

  const perStep = (x: number) => (x / steps).toFixed(1);
  process.stdout.write(
    `${info.description}; ${steps} profiled steps of batch ${BATCH} × ${SEQ_LEN}; matrix-product peak (1024²): ${peak.toFixed(1)} GFLOP/s\n`,
  );
  process.stdout.write(
    `per step: ${perStep(stepMs)} ms profiled (kernels ${perStep(kernelMs)} ms; JavaScript outside kernels ${perStep(stepMs - kernelMs)} ms, of which dropout masks ≈ ${maskMs.toFixed(1)} ms); data assembly ${perStep(prepareMs)} ms\n\n`,
  );
  const byPart = new Map<string, number>();
  for (const g of groups.values()) byPart.set(g.part, (byPart.get(g.part) ?? 0) + g.ms);
  process.stdout.write('by part of the model (kernel time per step):\n');
  for (const [part, ms] of [...byPart].sort((a, b) => b[1] - a[1]))
    process.stdout.write(`  ${perStep(ms).padStart(8)} ms  ${((100 * ms) / kernelMs).toFixed(1).padStart(5)}%  ${part}\n`);
  process.stdout.write('\ntop kernels (per step):\n');
  for (const g of [...groups.values()].sort((a, b) => b.ms - a.ms).slice(0, Number(process.argv[3] ?? 20))) {
    const gflops = g.flops > 0 ? ` ${(g.flops / (g.ms / 1000) / 1e9).toFixed(1)} GFLOP/s` : '';
    process.stdout.write(`  ${perStep(g.ms).padStart(8)} ms  ×${String(g.calls / steps).padEnd(3)} ${g.kernel} ${g.shapes}${gflops}\n`);
  }
  params.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
