/**
 * An Arrow IPC file (the random-access "Feather v2" format) written batch by
 * batch to `<path>.tmp-<pid>` and renamed when finished, so the file's
 * presence means it is whole. Memory stays bounded: each batch's bytes are
 * handed to the file stream as they are produced, and hashed on the way
 * (SHA-256, for the dataset manifest when the file lies inside the dataset).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import * as arrow from 'apache-arrow';
import type { Batch } from '../core/batch.js';
import { batchToArrow } from '../core/arrow.js';
import { trackTemp, untrackTemp } from './temp-files.js';

export class ArrowIpcFileWriter {
  private readonly tmp: string;
  private readonly out: fs.WriteStream;
  private readonly writer = new arrow.RecordBatchFileWriter();
  private readonly piped: Promise<void>;
  private failed: Error | null = null;
  private readonly hash = createHash('sha256');
  rows = 0;
  /** Bytes written so far (all of the file after close). */
  bytes = 0;
  /** Hex SHA-256 of the file, set by close. */
  sha256 = '';

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.tmp = `${file}.tmp-${process.pid}`;
    trackTemp(this.tmp);
    this.out = fs.createWriteStream(this.tmp);
    this.out.on('error', (e) => {
      this.failed = e;
    });
    this.piped = this.pump();
  }

  private async pump(): Promise<void> {
    for await (const chunk of this.writer) {
      this.hash.update(chunk);
      this.bytes += chunk.byteLength;
      if (!this.out.write(chunk)) await once(this.out, 'drain');
    }
  }

  write(batch: Batch): void {
    if (this.failed) throw this.failed;
    this.writer.write(batchToArrow(batch));
    this.rows += batch.numRows;
  }

  /** Write the footer, flush, and move the file into place. `empty` gives the schema when no batch was written. */
  async close(empty: Batch): Promise<void> {
    if (this.rows === 0) this.writer.write(batchToArrow(empty));
    this.writer.finish();
    this.writer.close();
    await this.piped;
    this.out.end();
    await once(this.out, 'close');
    if (this.failed) throw this.failed;
    this.sha256 = this.hash.digest('hex');
    fs.renameSync(this.tmp, this.file);
    untrackTemp(this.tmp);
  }

  /** Give up: remove the temporary file. */
  async abort(): Promise<void> {
    this.writer.abort();
    await this.piped.catch(() => undefined);
    this.out.destroy();
    fs.rmSync(this.tmp, { force: true });
    untrackTemp(this.tmp);
  }
}
