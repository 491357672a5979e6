/**
 * Feeds a text file to a line parser in large chunks. The parser consumes the
 * complete records of each chunk and returns how many bytes it used; the
 * rest (a partial line, or a quoted record still open) is kept and the next
 * read is appended to it. Memory is one chunk plus the longest record, which
 * the parsers bound by `max_line_bytes` (past it they consume and drop the
 * line's bytes as they come).
 */
import * as fs from 'node:fs';

export interface ChunkConsumer {
  /** Parse complete records of `buf` (all of it when `eof`); return bytes consumed. */
  consume(buf: Buffer, eof: boolean): number;
}

/**
 * Read `file` through `parser`, calling `afterChunk(bytesDone)` after each
 * chunk (where the caller emits finished batches and reports progress).
 */
export async function* readTextFile(file: string, parser: ChunkConsumer, chunkBytes: number, onUnreadable: (reason: string) => void): AsyncGenerator<number> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    // Gone or unreadable since it was listed: strict mode stops, quarantine mode sets the file aside.
    onUnreadable(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    yield 0;
    return;
  }
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let kept = 0;
    let done = 0;
    for (;;) {
      if (buf.length - kept < chunkBytes / 2) {
        // The kept tail fills most of the buffer (a very long record): grow.
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, kept + chunkBytes));
        buf.copy(grown, 0, 0, kept);
        buf = grown;
      }
      const { bytesRead } = await fh.read(buf, kept, buf.length - kept, null);
      const eof = bytesRead === 0;
      const end = kept + bytesRead;
      const used = parser.consume(buf.subarray(0, end), eof);
      done += bytesRead;
      if (eof) {
        yield done;
        return;
      }
      kept = end - used;
      // Parsers copy values out of the buffer, so it is reused in place.
      if (kept > 0) buf.copy(buf, 0, used, end);
      yield done;
    }
  } finally {
    await fh.close();
  }
}
