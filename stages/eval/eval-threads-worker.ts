/**
 * A scoring worker thread of evaluation: its own TensorFlow.js backend (the
 * evaluating thread's), the current scorer's item vectors in shared memory,
 * and for each request the rank counts of a chunk of contexts over its range
 * of the catalog (blocked-topk.ts), scored by the same kernel as the
 * evaluating thread (factor-scores.ts). Started by eval-threads.ts.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../train/backend.js';
import { BlockedRanking, itemBlocks } from './blocked-topk.js';
import type { EvalInitMessage, EvalItemsMessage, EvalRankRequest, EvalWorkerReply } from './eval-threads-messages.js';
import { blockScores } from './factor-scores.js';

const port = parentPort;
if (!port) throw new Error('eval-threads-worker.ts runs as a worker thread (started by eval-threads.ts)');
let catalog: { items: Float32Array; dim: number; numItems: number } | undefined;

function rank(m: EvalRankRequest): Int32Array {
  if (!catalog) throw new Error('rank request before the item vectors');
  const { items, dim, numItems } = catalog;
  const rows = m.targets.length;
  const state = new BlockedRanking(numItems, m.targets, m.targetScores, { offsets: m.exclusionOffsets, values: m.exclusionValues });
  for (const [s, e] of itemBlocks(m.start, m.end, m.width)) state.addBlock(blockScores(m.h, rows, dim, items.subarray(s * dim, e * dim), e - s), s, e);
  return state.atOrAbove;
}

port.on('message', (m: EvalInitMessage | EvalItemsMessage | EvalRankRequest) => {
  const reply = async (): Promise<EvalWorkerReply> => {
    if (m.type === 'init') {
      await initBackend(m.backend);
      return { type: 'ready' };
    }
    if (m.type === 'items') {
      catalog = { items: new Float32Array(m.items), dim: m.dim, numItems: m.numItems };
      return { type: 'ready' };
    }
    return { type: 'ranked', atOrAbove: rank(m) };
  };
  reply().then(
    (r) => port.postMessage(r, r.type === 'ranked' ? [r.atOrAbove.buffer as ArrayBuffer] : []),
    (e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies EvalWorkerReply),
  );
});
