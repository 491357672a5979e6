/**
 * Parquet encoding on a worker thread, so that parsing (main thread) and
 * encoding (worker) use both cores. The main thread turns a part's batch into
 * an Arrow IPC stream (cheap: the typed arrays are copied once) and transfers
 * its bytes; the worker converts it with parquet-wasm, writes the file under
 * a temporary name and renames it, and answers with the file's size.
 *
 * The worker's code is plain JavaScript given inline (eval), so it runs the
 * same under tsx, vitest and the compiled build without a loader.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { Batch } from '../core/batch.js';
import { statisticsOf, type ParquetCompression, type ParquetWriteOptions } from '../io/parquet.js';
import { batchToArrow } from '../core/arrow.js';
import { trackTemp, untrackTemp } from './temp-files.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const pw = require(workerData.parquetWasm);
parentPort.on('message', (m) => {
  const tmp = m.file + '.tmp-' + process.pid;
  try {
    const table = pw.Table.fromIPCStream(m.ipc);
    let b = new pw.WriterPropertiesBuilder()
      .setCompression(m.codec)
      .setMaxRowGroupSize(m.rowGroupSize)
      .setCreatedBy('recpost');
    if (m.dictionary === false) b = b.setDictionaryEnabled(false);
    if (m.statistics !== undefined) b = b.setStatisticsEnabled(m.statistics);
    if (m.metadata) b = b.setKeyValueMetadata(new Map(Object.entries(m.metadata)));
    const bytes = pw.writeParquet(table, b.build());
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, m.file);
    parentPort.postMessage({ id: m.id, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  } catch (e) {
    try { fs.rmSync(tmp, { force: true }); } catch {}
    parentPort.postMessage({ id: m.id, error: String((e && e.stack) || e) });
  }
});
`;

function codecOf(c: ParquetCompression): number {
  switch (c) {
    case 'zstd':
      return pw.Compression.ZSTD;
    case 'snappy':
      return pw.Compression.SNAPPY;
    case 'gzip':
      return pw.Compression.GZIP;
    case 'lz4':
      return pw.Compression.LZ4_RAW;
    case 'none':
      return pw.Compression.UNCOMPRESSED;
  }
}

export class ParquetEncodeWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(r: { bytes: number; sha256: string }): void; reject(e: Error): void }>();
  private dead: Error | null = null;

  constructor() {
    const parquetWasm = createRequire(import.meta.url).resolve('parquet-wasm');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm } });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; bytes?: number; sha256?: string; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (m.error !== undefined) w.reject(new Error(`Parquet encoding failed: ${m.error}`));
      else w.resolve({ bytes: m.bytes!, sha256: m.sha256! });
    });
    const failAll = (e: Error) => {
      this.dead = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => {
      if (this.waiting.size > 0) failAll(new Error(`Parquet worker exited (code ${code}) with parts pending`));
    });
  }

  /** Encode `batches` as one Parquet file at `file` (atomically). Resolves to its size in bytes. */
  async encode(batches: Batch[], file: string, opts: ParquetWriteOptions): Promise<number> {
    return (await this.encodeHashed(batches, file, opts)).bytes;
  }

  /** `encode`, also resolving to the SHA-256 of the bytes written (computed on the worker). */
  encodeHashed(batches: Batch[], file: string, opts: ParquetWriteOptions): Promise<{ bytes: number; sha256: string }> {
    if (this.dead) return Promise.reject(this.dead);
    const ipc = arrow.tableToIPC(new arrow.Table(batches.map(batchToArrow)), 'stream');
    const id = this.nextId++;
    // The worker writes `<file>.tmp-<pid>` (same pid: a thread of this process).
    const tmp = `${file}.tmp-${process.pid}`;
    trackTemp(tmp);
    const settle =
      <T>(f: (v: T) => void) =>
      (v: T) => {
        untrackTemp(tmp);
        f(v);
      };
    return new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      // The worker keeps the process alive only while it has work.
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.worker.postMessage(
        {
          id,
          ipc,
          file,
          codec: codecOf(opts.compression ?? 'zstd'),
          rowGroupSize: opts.rowGroupSize ?? 131072,
          metadata: opts.metadata,
          dictionary: opts.dictionary,
          statistics: opts.statistics === undefined ? undefined : statisticsOf(opts.statistics),
        },
        [ipc.buffer as ArrayBuffer],
      );
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
