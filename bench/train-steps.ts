/**
 * Milliseconds per optimiser-free training step (forward + gradient) of the
 * training benchmark's workload (bench/train.ts) on one WASM thread, wall
 * and CPU, over a few steps after a warm-up step. Meant for comparing two
 * versions of the kernels side by side on a busy machine (run them
 * alternately): CPU time is less disturbed than wall time by other load.
 *
 *   npx tsx bench/train-steps.ts [steps]        (default 4)
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../stages/train/backend.js';
import { createSasrecParams, type SasrecConfig } from '../stages/train/sasrec.js';
import { sasrecTask } from '../stages/train/sasrec-task.js';
import { benchSequences } from './train.js';

const NUM_ITEMS = 1701;
const SEQ_LEN = 200;
const BATCH = 128;

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 4);
  await initBackend('wasm');
  const data = benchSequences(1000, SEQ_LEN, NUM_ITEMS, 1);
  const config: SasrecConfig = { numItems: NUM_ITEMS, maxLen: SEQ_LEN, d: 64, blocks: 2, heads: 2, ffn: 64, dropout: 0.2, rewardHead: false, rewardHidden: 1 };
  const params = createSasrecParams(config, 1);
  const task = sasrecTask(params, config, data, { softmax: 'full', negatives: 0, negativeAlpha: 0, rewardWeight: 0, detachRewardHead: true, seed: 1 });
  const rows = (s: number) => Int32Array.from({ length: BATCH }, (_, i) => (s * BATCH + i) % data.numRows);
  let loss = 0;
  const step = (s: number) => {
    const prep = task.prepare(rows(s));
    const w = new Float32Array(prep.rewards.length).fill(1);
    const { value, grads } = tf.variableGrads(() => task.loss(prep, w, s).loss, params.variables());
    loss += value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(0); // warm-up
  loss = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) step(s);
  const wall = (performance.now() - t0) / steps;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000 / steps;
  process.stdout.write(
    `${steps} steps of batch ${BATCH} × ${SEQ_LEN}: ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU per step; mean loss ${(loss / steps).toFixed(6)}\n`,
  );
  params.dispose();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
