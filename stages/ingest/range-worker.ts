/**
 * Entry of an ingest worker thread (started by range-pool.ts): parses the
 * byte ranges it is sent, one at a time, and answers with each range's
 * output (range-job.ts), its buffers transferred.
 */
import { parentPort } from 'node:worker_threads';
import type { ParquetReadWorker } from './parquet-read-worker.js';
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
      // Imported only when needed: Arrow and parquet-wasm take a while to load in each thread.
      const { loadVocabulary } = await import('./vocab-files.js');
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
  if (m.task.format === 'parquet' && !parquet) parquet = new (await import('./parquet-read-worker.js')).ParquetReadWorker();
  const out = await runRangeJob(m.task, settings!, fixed, () => parquet!);
  port.postMessage({ type: 'range', id: m.id, out } satisfies RangeWorkerReply, transferList(out));
}

port.on('message', (m: RangeWorkerRequest) => {
  handle(m).catch((e: unknown) => {
    const reply: RangeWorkerReply = { type: 'error', id: m.type === 'range' ? m.id : -1, message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage(reply);
  });
});
