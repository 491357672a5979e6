/**
 * Parquet decoding on a worker thread, so that a corrupt file cannot take
 * the process down. parquet-wasm reports some corrupt pages by trapping
 * (`RuntimeError: unreachable`) inside an async callback, where no
 * try/catch of the caller can see it: on the main thread that is an
 * uncaught exception and Node exits. In a worker it ends the worker only;
 * the pending request is rejected with the trap's message, and the next
 * request starts a fresh worker (a fresh WebAssembly instance, not one left
 * in an unknown state).
 *
 * The worker opens one file at a time and answers with Arrow IPC bytes (the
 * schema, one row group's chosen columns), transferred without a copy. Its
 * code is plain JavaScript given inline (eval), like parquet-worker.ts.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as arrow from 'apache-arrow';
import { errorText } from './file-errors.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const pw = require(workerData.parquetWasm);
let pf = null;
// Transfer a buffer only when the view owns all of it (never a view of wasm memory).
const own = (u8) => (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8 : u8.slice());
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'open') {
      if (pf) { pf.free(); pf = null; }
      pf = await pw.ParquetFile.fromFile(await fs.openAsBlob(m.file));
      const md = pf.metadata();
      const schema = own(pf.schema().intoIPCStream());
      parentPort.postMessage({ id: m.id, schema, rowGroups: md.numRowGroups(), rows: Number(md.fileMetadata().numRows()) }, [schema.buffer]);
    } else if (m.op === 'read') {
      const t = await pf.read({ rowGroups: [m.group], columns: m.columns, batchSize: 1 << 30 });
      const ipc = own(t.intoIPCStream());
      parentPort.postMessage({ id: m.id, ipc }, [ipc.buffer]);
    } else {
      if (pf) { pf.free(); pf = null; }
      parentPort.postMessage({ id: m.id });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

export interface ParquetFileInfo {
  schema: arrow.Schema;
  rowGroups: number;
  rows: number;
}

type Reply = { id: number; error?: string; schema?: Uint8Array; rowGroups?: number; rows?: number; ipc?: Uint8Array };

type Pending = Map<number, { resolve(r: Reply): void; reject(e: Error): void }>;

export class ParquetReadWorker {
  /** The live worker and the requests waiting on it (each worker has its own: a dead one fails only its own). */
  private current: { worker: Worker; waiting: Pending } | null = null;
  private nextId = 0;

  private start(): { worker: Worker; waiting: Pending } {
    const parquetWasm = createRequire(import.meta.url).resolve('parquet-wasm');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { parquetWasm } });
    const waiting: Pending = new Map();
    w.unref();
    w.on('message', (m: Reply) => {
      const p = waiting.get(m.id);
      if (!p) return;
      waiting.delete(m.id);
      if (waiting.size === 0) w.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    const fail = (e: Error) => {
      if (this.current?.worker === w) this.current = null;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    };
    w.on('error', (e) => fail(new Error(`decoder crashed: ${errorText(e)}`)));
    w.on('exit', (code) => fail(new Error(`decoder exited with code ${code}`)));
    this.current = { worker: w, waiting };
    return this.current;
  }

  private call(msg: Record<string, unknown>): Promise<Reply> {
    const { worker, waiting } = this.current ?? this.start();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
  }

  /** Open `file` (closing the previous one): its schema and size. Rejects for a file parquet-wasm cannot open. */
  async open(file: string): Promise<ParquetFileInfo> {
    const r = await this.call({ op: 'open', file });
    return { schema: arrow.tableFromIPC(r.schema!).schema, rowGroups: r.rowGroups!, rows: r.rows! };
  }

  /** Decode row group `group` of the open file, only `columns`. Rejects for corrupt data. */
  async read(group: number, columns: string[]): Promise<arrow.Table> {
    const r = await this.call({ op: 'read', group, columns });
    return arrow.tableFromIPC(r.ipc!);
  }

  /** Release the open file (nothing to do when the worker is gone). */
  async close(): Promise<void> {
    if (this.current) await this.call({ op: 'close' }).catch(() => undefined);
  }

  async terminate(): Promise<void> {
    const c = this.current;
    this.current = null;
    if (c) await c.worker.terminate();
  }
}
