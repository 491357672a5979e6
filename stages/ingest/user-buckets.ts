/**
 * User buckets (issue 10): every row goes to bucket = FNV-1a-32 of its raw
 * user id's UTF-8 bytes, mod B. The raw id is the id as the vocabulary keeps
 * it (a canonical integer id is its decimal text, so JSON 17 and CSV "17"
 * agree), so a bucket depends on the user alone: never on the file, the
 * thread or the shard that read the row, nor on the dense index.
 */
import type { Batch } from '../core/batch.js';
import { takeRows } from '../core/batch.js';
import type { IdVocabulary } from './id-vocabulary.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h >>> 0;
}

/** The bucket of a raw user id. */
export function userBucket(rawId: string, buckets: number): number {
  return fnv1a32(rawId) % buckets;
}

/** Bucket of each user index of a growing vocabulary, computed once per user. */
export class UserBuckets {
  private table = new Int32Array(1024);
  private known = 0;

  constructor(
    readonly count: number,
    private readonly users: IdVocabulary,
  ) {}

  private extend(): void {
    const n = this.users.size;
    if (n < this.known) throw new Error(`user buckets: the users vocabulary shrank (${this.known} → ${n})`);
    if (n + 1 > this.table.length) {
      let cap = this.table.length;
      while (cap < n + 1) cap *= 2;
      const grown = new Int32Array(cap);
      grown.set(this.table);
      this.table = grown;
    }
    for (let u = this.known + 1; u <= n; u++) this.table[u] = userBucket(this.users.rawId(u), this.count);
    this.known = n;
  }

  /** The rows of `batch` per bucket, in row order, for the buckets that have rows (ascending). */
  split(batch: Batch): { bucket: number; batch: Batch }[] {
    this.extend();
    const users = batch.columns.user_id as Int32Array;
    const counts = new Int32Array(this.count);
    for (let i = 0; i < batch.numRows; i++) counts[this.table[users[i]!]!]!++;
    const filled = [...counts.keys()].filter((b) => counts[b]! > 0);
    if (filled.length === 1) return [{ bucket: filled[0]!, batch }];
    const index = filled.map((b) => ({ bucket: b, rows: new Int32Array(counts[b]!), n: 0 }));
    const slot = new Int32Array(this.count).fill(-1);
    index.forEach((x, k) => (slot[x.bucket] = k));
    for (let i = 0; i < batch.numRows; i++) {
      const x = index[slot[this.table[users[i]!]!]!]!;
      x.rows[x.n++] = i;
    }
    return index.map((x) => ({ bucket: x.bucket, batch: takeRows(batch, x.rows) }));
  }
}
