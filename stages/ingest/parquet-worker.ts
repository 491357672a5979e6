/**
 * Parquet encoding on a worker thread, so that parsing (main thread) and
 * encoding (worker) use both cores. For a part of fixed-width numeric
 * columns (what ingest writes) the main thread posts the batches' columns,
 * shared when they live in SharedArrayBuffers (the ingest's batch assembler)
 * and copied otherwise; for any other part, its Arrow IPC stream. The worker
 * builds the Arrow IPC stream of the columns itself (keeping that and the
 * copy off the parsing thread), converts it with
 * parquet-wasm, writes the file under a temporary name and renames it, and
 * answers with the file's size.
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
let arrow = null;
const ARROW_TYPES = { Int32Array: 'Int32', BigInt64Array: 'Int64', Float32Array: 'Float32', Float64Array: 'Float64' };
/** The Arrow IPC stream of a part sent as batches of columns: the record batches stages/core/arrow.ts batchToArrow makes of them. */
function ipcOfBatches(m) {
  arrow = arrow || require(workerData.apacheArrow);
  const batches = m.batches.map((b) => {
    const fields = [];
    const children = [];
    for (const c of b.columns) {
      const type = new arrow[ARROW_TYPES[c.data.constructor.name]]();
      fields.push(new arrow.Field(c.name, type, c.nullable));
      children.push(arrow.makeData({ type, length: b.rows, nullCount: 0, data: c.data }));
    }
    const struct = arrow.makeData({ type: new arrow.Struct(fields), length: b.rows, nullCount: 0, children });
    return new arrow.RecordBatch(new arrow.Schema(fields), struct);
  });
  return arrow.tableToIPC(new arrow.Table(batches), 'stream');
}
parentPort.on('message', (m) => {
  const tmp = m.file + '.tmp-' + process.pid;
  try {
    const table = pw.Table.fromIPCStream(m.ipc || ipcOfBatches(m));
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

/** Typed arrays the worker turns into Arrow columns itself (the types batchToArrow gives them). */
const FIXED_WIDTH = [Int32Array, BigInt64Array, Float32Array, Float64Array];

/**
 * What is posted for a part: its batches as columns (names and nullability as
 * batchToArrow gives them) when every column is one of FIXED_WIDTH, each
 * column shared where it lives in a SharedArrayBuffer (batch-assembler.ts)
 * and otherwise copied and its copy transferred; else the part's Arrow IPC
 * stream.
 */
function partPayload(batches: Batch[]): { message: Record<string, unknown>; transfer: ArrayBuffer[] } {
  const first = batches[0]!;
  const names = Object.keys(first.columns).join('\0');
  const fixed = batches.every(
    (b) => Object.keys(b.columns).join('\0') === names && Object.values(b.columns).every((c) => FIXED_WIDTH.some((T) => c.constructor === T)),
  );
  const fields = fixed ? batchToArrow(first).schema.fields : [];
  if (fields.length === 0) {
    const ipc = arrow.tableToIPC(new arrow.Table(batches.map(batchToArrow)), 'stream');
    return { message: { ipc }, transfer: [ipc.buffer as ArrayBuffer] };
  }
  const transfer: ArrayBuffer[] = [];
  const parts = batches.map((b) => ({
    rows: b.numRows,
    columns: fields.map((f) => {
      const c = b.columns[f.name] as Int32Array;
      const view = c.length === b.numRows ? c : c.subarray(0, b.numRows);
      if (view.buffer instanceof SharedArrayBuffer) return { name: f.name, nullable: f.nullable, data: view };
      const copy = view.slice();
      transfer.push(copy.buffer);
      return { name: f.name, nullable: f.nullable, data: copy };
    }),
  }));
  return { message: { batches: parts }, transfer };
}

export class ParquetEncodeWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(r: { bytes: number; sha256: string }): void; reject(e: Error): void }>();
  private dead: Error | null = null;

  constructor() {
    const require = createRequire(import.meta.url);
    const workerData = { parquetWasm: require.resolve('parquet-wasm'), apacheArrow: require.resolve('apache-arrow') };
    // A small young generation: the worker allocates little JavaScript, and the views it was posted keep the parts'
    // SharedArrayBuffers alive until a collection; with the default size that took many parts (6M rows: peak 490 → 455 MB).
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
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
    const part = partPayload(batches);
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
          ...part.message,
          file,
          codec: codecOf(opts.compression ?? 'zstd'),
          rowGroupSize: opts.rowGroupSize ?? 131072,
          metadata: opts.metadata,
          dictionary: opts.dictionary,
          statistics: opts.statistics === undefined ? undefined : statisticsOf(opts.statistics),
        },
        part.transfer,
      );
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
