/**
 * Fills interaction columns row by row and cuts them into batches of
 * `batchSize` rows. Parsers write the fields of row `row` straight into the
 * typed arrays and call `commit()` only once every field is valid, so a
 * rejected row leaves nothing behind (the slot is simply overwritten).
 *
 * int64 timestamps are written as two int32 words (little-endian) instead of
 * a BigInt per row: BigInt construction would cost more than the parse.
 *
 * With `shared`, the columns live in SharedArrayBuffers, so the Parquet
 * encoding worker reads a part's batches where they are (parquet-worker.ts)
 * instead of the parsing thread copying them; the batches are never written
 * again once cut, here or downstream.
 */
import * as os from 'node:os';
import type { Batch, Column } from '../core/batch.js';

const LITTLE_ENDIAN = os.endianness() === 'LE';
const TWO_32 = 4294967296;

export class BatchAssembler {
  user!: Int32Array;
  item!: Int32Array;
  reward!: Float32Array;
  timestamp!: BigInt64Array;
  private tsWords!: Int32Array;
  session: Int32Array | null = null;
  extras: Float64Array[] = [];
  /** Index of the row being filled. */
  row = 0;
  /** Completed batches waiting to be emitted. */
  readonly ready: Batch[] = [];
  /** Rows committed so far, over all batches. */
  total = 0;

  constructor(
    readonly batchSize: number,
    readonly withSession: boolean,
    readonly extraNames: readonly string[],
    readonly shared = false,
  ) {
    this.allocate();
  }

  private column<T>(Ctor: { new (b: ArrayBufferLike): T; new (n: number): T; BYTES_PER_ELEMENT: number }): T {
    const n = this.batchSize;
    return this.shared ? new Ctor(new SharedArrayBuffer(n * Ctor.BYTES_PER_ELEMENT)) : new Ctor(n);
  }

  private allocate(): void {
    this.user = this.column(Int32Array);
    this.item = this.column(Int32Array);
    this.reward = this.column(Float32Array);
    this.timestamp = this.column(BigInt64Array);
    this.tsWords = new Int32Array(this.timestamp.buffer);
    this.session = this.withSession ? this.column(Int32Array) : null;
    this.extras = this.extraNames.map(() => this.column(Float64Array));
    this.row = 0;
  }

  /** Store a safe-integer timestamp for the current row. */
  setTimestamp(v: number): void {
    if (LITTLE_ENDIAN) {
      const w = this.row << 1;
      this.tsWords[w] = v >>> 0;
      this.tsWords[w + 1] = Math.floor(v / TWO_32);
    } else this.timestamp[this.row] = BigInt(v);
  }

  /** Keep the current row and move to the next; cuts a batch when full. */
  commit(): void {
    this.total++;
    if (++this.row === this.batchSize) this.cut();
  }

  /** Cut the rows filled so far into a batch (call at the end of input). */
  flush(): void {
    if (this.row > 0) this.cut();
  }

  private cut(): void {
    const n = this.row;
    const full = n === this.batchSize;
    const view = <T extends { subarray(a: number, b: number): T }>(a: T): T => (full ? a : a.subarray(0, n));
    const columns: Record<string, Column> = {
      user_id: view(this.user),
      item_id: view(this.item),
      timestamp: view(this.timestamp),
      reward: view(this.reward),
    };
    if (this.session) columns.session_id = view(this.session);
    this.extraNames.forEach((name, k) => {
      columns[name] = view(this.extras[k]!);
    });
    this.ready.push({ table: 'interactions', numRows: n, columns });
    this.allocate();
  }
}
