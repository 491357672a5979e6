/**
 * A gradient worker thread of data-parallel training: its own TensorFlow.js
 * backend and a replica of the model; for each request it loads the
 * trainer's current parameters from shared memory, computes its row slice's
 * gradient (slice-gradients.ts) into its shared gradient buffer and replies
 * with the slice's loss terms. Started by worker-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import type { OfflineTask, PreparedBatch } from '../offline-trainer.js';
import type { GradientRequest, InitMessage, WorkerReply } from './messages.js';
import { checkLayout, type ParamLayout } from './param-layout.js';
import { sliceGradients } from './slice-gradients.js';
import { buildWorkerTask } from './worker-tasks.js';

interface Replica {
  task: OfflineTask<PreparedBatch>;
  layout: ParamLayout;
  additiveExtras: readonly string[];
  params: Float32Array;
  grads: Float32Array;
}

const port = parentPort;
if (!port) throw new Error('gradient-worker.ts runs as a worker thread (started by worker-pool.ts)');
let replica: Replica | undefined;

async function start(m: InitMessage): Promise<void> {
  await initBackend(m.backend);
  const task = buildWorkerTask(m.spec);
  const total = m.slots.reduce((s, x) => s + x.size, 0);
  const layout: ParamLayout = { slots: m.slots, byName: new Map(m.slots.map((s) => [s.name, s])), total };
  checkLayout(task.params, layout);
  replica = { task, layout, additiveExtras: m.additiveExtras, params: new Float32Array(m.params), grads: new Float32Array(m.grads) };
}

function gradient(r: Replica, m: GradientRequest): WorkerReply {
  tf.tidy(() => {
    for (const s of r.layout.slots) r.task.params.get(s.name).assign(tf.tensor(r.params.slice(s.offset, s.offset + s.size), s.shape, 'float32'));
  });
  const result = sliceGradients(r.task, m.batch as PreparedBatch, m.weights, m.step, m.share, r.additiveExtras, r.layout, r.grads, m.term);
  return { type: 'done', id: m.id, result, liveTensors: tf.memory().numTensors };
}

port.on('message', (m: InitMessage | GradientRequest) => {
  const reply = async (): Promise<WorkerReply> => {
    if (m.type === 'init') {
      await start(m);
      return { type: 'ready' };
    }
    if (!replica) throw new Error('gradient request before init');
    return gradient(replica, m);
  };
  reply().then(
    (r) => port.postMessage(r),
    (e: unknown) =>
      port.postMessage({
        type: 'error',
        ...(m.type === 'grad' ? { id: m.id } : {}),
        message: e instanceof Error ? e.message : String(e),
      } satisfies WorkerReply),
  );
});
