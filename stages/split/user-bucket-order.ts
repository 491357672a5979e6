/**
 * Bucket-major order for split_sequences over a dataset that ingest wrote in
 * user buckets (user_buckets > 1, issue 10). The split then works bucket by
 * bucket: each bucket's users are planned on their own and their examples
 * come out bucket 0 first, each bucket cut into its own batches. A shard of a
 * sharded run (pipelines/plan/) holds one bucket (or a run of buckets) and
 * does the same, so the concatenation of the shards' outputs in bucket order
 * is the one-process output, batch for batch.
 *
 * Where the bucket of a row comes from:
 * - a shard tags each batch it reads with its part's bucket (`meta.bucket`);
 * - one process reads the user_id column of the bucketed dataset the ingest
 *   published (ARTIFACT.dataset) and maps each user index to its bucket.
 * Neither: one bucket, today's order (user index, then time).
 */
import type { Batch } from '../core/batch.js';
import type { InteractionLog } from './interaction-log.js';
import type { SplitCounts } from './leave-last-out.js';

/** The bucket a batch was tagged with by a shard's reader, or undefined. */
export function batchBucket(b: Batch): number | undefined {
  const v = b.meta?.bucket;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** What a bucketed dataset's manifest lists: its parts with their buckets. */
export interface BucketedDataset {
  dir: string;
  manifest: { files: { path: string; bucket?: number }[] };
}

/**
 * Bucket of every user index of a bucketed dataset (−1: the user has no row
 * there), from the user_id column of each bucket's parts; undefined when the
 * dataset has no buckets.
 */
export async function userBucketsOfDataset(ds: BucketedDataset | undefined): Promise<Int32Array | undefined> {
  const files = ds?.manifest.files ?? [];
  if (!ds || !files.some((f) => f.bucket !== undefined)) return undefined;
  const { readParquetFile } = await import('../io/parquet.js');
  let map = new Int32Array(1024).fill(-1);
  for (const f of files) {
    const bucket = f.bucket ?? 0;
    for await (const b of readParquetFile(`${ds.dir}/${f.path}`, { columns: ['user_id'] })) {
      const users = b.columns.user_id as Int32Array;
      for (let i = 0; i < users.length; i++) {
        const u = users[i]!;
        if (u >= map.length) {
          let cap = map.length;
          while (cap <= u) cap *= 2;
          const grown = new Int32Array(cap).fill(-1);
          grown.set(map);
          map = grown;
        }
        map[u] = bucket;
      }
    }
  }
  return map;
}

/** The bucket of each row of `log` from a user → bucket map; a user the map lacks is an error naming it. */
export function rowBucketsFromUsers(log: InteractionLog, userBucket: Int32Array): Int32Array {
  const out = new Int32Array(log.n);
  for (let i = 0; i < log.n; i++) {
    const u = log.user[i]!;
    const b = u >= 0 && u < userBucket.length ? userBucket[u]! : -1;
    if (b < 0) throw new Error(`split_sequences: user ${u} has no row in the bucketed dataset the ingest wrote, so its bucket is unknown`);
    out[i] = b;
  }
  return out;
}

/**
 * The log cut into one log per bucket (ascending buckets, rows in input order
 * within each): one stable counting sort by bucket into new columns, each
 * bucket's log a view of them; the input log's columns are released.
 */
export function logsByBucket(log: InteractionLog, rowBucket: Int32Array): { bucket: number; log: InteractionLog }[] {
  let top = 0;
  for (let i = 0; i < log.n; i++) top = Math.max(top, rowBucket[i]!);
  const start = new Int32Array(top + 2);
  for (let i = 0; i < log.n; i++) start[rowBucket[i]! + 1]!++;
  for (let b = 0; b <= top; b++) start[b + 1]! += start[b]!;
  const at = start.slice(0, top + 1);
  const perm = new Int32Array(log.n);
  for (let i = 0; i < log.n; i++) perm[at[rowBucket[i]!]!++] = i;
  const user = Int32Array.from(perm, (i) => log.user[i]!);
  const item = Int32Array.from(perm, (i) => log.item[i]!);
  const reward = Float32Array.from(perm, (i) => log.reward[i]!);
  const timestamp = new BigInt64Array(log.n);
  for (let k = 0; k < log.n; k++) timestamp[k] = log.timestamp[perm[k]!]!;
  const session = log.session ? Int32Array.from(perm, (i) => log.session![i]!) : undefined;
  const out: { bucket: number; log: InteractionLog }[] = [];
  for (let b = 0; b <= top; b++) {
    const s = start[b]!;
    const e = start[b + 1]!;
    if (e === s) continue;
    const part: InteractionLog = {
      n: e - s,
      user: user.subarray(s, e),
      item: item.subarray(s, e),
      timestamp: timestamp.subarray(s, e),
      reward: reward.subarray(s, e),
    };
    if (session) part.session = session.subarray(s, e);
    out.push({ bucket: b, log: part });
  }
  return out;
}

/** Split counts of disjoint sets of users added (buckets hold disjoint users). */
export function addSplitCounts(a: SplitCounts, b: SplitCounts): SplitCounts {
  const add3 = (x: [number, number, number], y: [number, number, number]): [number, number, number] => [x[0] + y[0], x[1] + y[1], x[2] + y[2]];
  return {
    users: a.users + b.users,
    interactions: a.interactions + b.interactions,
    shortUsers: a.shortUsers + b.shortUsers,
    droppedShortUserRows: a.droppedShortUserRows + b.droppedShortUserRows,
    examples: add3(a.examples, b.examples),
    droppedMinContext: add3(a.droppedMinContext, b.droppedMinContext),
    belowThreshold: add3(a.belowThreshold, b.belowThreshold),
  };
}
