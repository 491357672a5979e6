/**
 * Writes ratings in the MovieLens-1M `ratings.dat` format, one rating per line:
 *
 *   UserID::MovieID::Rating::Timestamp
 *
 * (raw ids, integer rating, seconds since the epoch), so the simulated log
 * goes through the same `ingest` stage as the real data. The file is written
 * under a temporary name and renamed by close(), so a crash never leaves a
 * ratings.dat that looks complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class MovieLensWriter {
  private readonly tmp: string;
  private fd: number;
  lines = 0;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = `${file}.tmp-${process.pid}`;
    this.fd = fs.openSync(this.tmp, 'w');
  }

  /** Append one user's ratings (already in time order). */
  writeUser(user: number, items: ArrayLike<number>, ratings: ArrayLike<number>, timestamps: ArrayLike<number>): void {
    if (this.fd < 0) throw new Error(`MovieLensWriter: ${this.file} is already closed`);
    const parts: string[] = new Array(items.length);
    for (let j = 0; j < items.length; j++) parts[j] = `${user}::${items[j]}::${ratings[j]}::${timestamps[j]}\n`;
    fs.writeSync(this.fd, parts.join(''));
    this.lines += items.length;
  }

  /** Finish the file and move it into place. */
  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    fs.renameSync(this.tmp, this.file);
  }

  /** Give up: remove the temporary file. */
  abort(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
