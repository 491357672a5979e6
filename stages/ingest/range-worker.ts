/**
 * Entry of an ingest worker thread (started by range-pool.ts): parses the
 * byte ranges it is sent, one at a time, and answers with each range's
 * output (range-job.ts), its buffers transferred.
 */
import { parentPort } from 'node:worker_threads';
import { loadVocabulary } from './vocab-files.js';
import { ParquetReadWorker } from './parquet-read-worker.js';
import { runRangeJob, transferList, type FixedVocabularies } from './range-job.js';
import type { RangeWorkerReply, RangeWorkerRequest } from './range-messages.js';

const port = parentPort!;
let settings: Extract<RangeWorkerRequest, { type: 'init' }>['settings'] | null = null;
let fixed: FixedVocabularies | null = null;
let parquet: ParquetReadWorker | null = null;

async function handle(m: RangeWorkerRequest): Promise<void> {
  if (m.type === 'init') {
    settings = m.settings;
    if (m.fixed) {
      fixed = { users: await loadVocabulary(m.fixed.users, 'users'), items: await loadVocabulary(m.fixed.items, 'items') };
      fixed.users.frozen = true;
      fixed.items.frozen = true;
    }
    port.postMessage({ type: 'ready' } satisfies RangeWorkerReply);
    return;
  }
  if (m.type === 'close') {
    await parquet?.terminate();
    port.close();
    return;
  }
  const out = await runRangeJob(m.task, settings!, fixed, () => (parquet ??= new ParquetReadWorker()));
  port.postMessage({ type: 'range', id: m.id, out } satisfies RangeWorkerReply, transferList(out));
}

port.on('message', (m: RangeWorkerRequest) => {
  handle(m).catch((e: unknown) => {
    const reply: RangeWorkerReply = { type: 'error', id: m.type === 'range' ? m.id : -1, message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage(reply);
  });
});
