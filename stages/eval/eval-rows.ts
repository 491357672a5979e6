/**
 * Gathers what an evaluation stage needs from a stream of `examples` /
 * `weighted_examples` batches, keeping only the needed columns:
 *
 * - evaluation rows (split in the chosen splits), grouped by data partition;
 * - train rows are handed to a callback (popularity counts, reward means) and
 *   not kept.
 *
 * A partition is the Parquet file a batch came from (batch.meta.file, set by
 * read_parquet), identified by the SHA-256 of its bytes (content-identity.ts)
 * so a rewritten file is evaluated again and a touched one is not; batches without a file use
 * meta.partition, else the single partition "stream".
 */
import * as path from 'node:path';
import { dataFileIdentity } from './content-identity.js';
import type { Batch, Column, ListColumn } from '../core/batch.js';
import { column, concatBatches, isListColumn, numericColumn, takeRows } from '../core/batch.js';
import { SPLIT_CODES, SPLIT_NAMES } from '../../schemas/tables.js';
import { isS3Path } from '../io/object-store/s3-url.js';

export interface EvalPartition {
  /** Identity recorded in the evaluation state. */
  id: string;
  /** Short name (last path components), used to derive sampling seeds. */
  label: string;
  /** The file it came from, if any. */
  path?: string;
  /** The evaluation rows of this partition, only the kept columns. */
  rows: Batch;
}

export interface PartitionId {
  id: string;
  label: string;
  path?: string;
}

/** Identity of the partition of the batches read from a data file. */
export function filePartition(file: string): PartitionId {
  const abs = path.resolve(file);
  // By content (content-identity.ts); a file that is gone (a temporary source) by its path alone.
  return { id: dataFileIdentity(abs) ?? `path:${abs}`, label: abs.split(path.sep).slice(-2).join('/'), path: abs };
}

/**
 * Identity of a dataset part: a local file by its bytes (filePartition); an
 * object on the store (`s3://…`, read through a scratch copy that is gone by
 * the time anyone asks) by the SHA-256 its manifest lists — the same id as
 * the bytes would give, so a pair keyed by it is the same wherever the file
 * was read — or, for a part no manifest describes, by its URL.
 */
export function partPartition(file: string, sha256?: string): PartitionId {
  if (!isS3Path(file)) return filePartition(file);
  return { id: sha256 ? `sha256:${sha256}` : `url:${file}`, label: file.split('/').slice(-2).join('/'), path: file };
}

/** Identity of the partition a batch belongs to. */
export function partitionOf(batch: Batch): PartitionId {
  const file = batch.meta?.file;
  if (typeof file === 'string') return partPartition(file, typeof batch.meta?.sha256 === 'string' ? batch.meta.sha256 : undefined);
  const p = batch.meta?.partition;
  if (typeof p === 'string' || typeof p === 'number') return { id: `partition:${p}`, label: String(p) };
  return { id: 'stream', label: 'stream' };
}

/** Split names → codes, with an error naming the known ones. */
export function splitCodes(names: readonly string[]): number[] {
  return names.map((n) => {
    const code = (SPLIT_CODES as Record<string, number>)[n];
    if (code === undefined) throw new Error(`unknown split "${n}" (known: ${SPLIT_NAMES.join(', ')})`);
    return code;
  });
}

export interface EvalRowOptions {
  /** Split codes whose rows are evaluated. */
  splits: number[];
  /** Columns kept for evaluation rows (split is always kept). */
  columns: string[];
  /** Keep at most this many evaluation rows overall, in stream order. */
  maxRows?: number;
  /** Called with each batch and the indices of its train rows. */
  onTrain?: (batch: Batch, rows: Int32Array) => void;
  /**
   * Keep the evaluation rows of these partitions (ids) only (a shard of a
   * sharded evaluation, eval-shard.ts); rows of the others are still counted,
   * against maxRows and in evalRows, as if kept.
   */
  keepPartitions?: readonly string[];
}

export class EvalRowCollector {
  private readonly parts = new Map<string, { label: string; path?: string; batches: Batch[] }>();
  private kept = 0;
  private readonly keep: ReadonlySet<string> | undefined;
  /** Largest item id seen in actions and contexts (the catalog extent is this + 1). */
  maxItemId = 0;
  rowsSeen = 0;

  constructor(private readonly opts: EvalRowOptions) {
    this.keep = opts.keepPartitions ? new Set(opts.keepPartitions) : undefined;
  }

  add(batch: Batch): void {
    if (batch.numRows === 0) return;
    this.rowsSeen += batch.numRows;
    const split = numericColumn(batch, 'split');
    const action = numericColumn(batch, 'action');
    for (let i = 0; i < action.length; i++) if ((action[i] as number) > this.maxItemId) this.maxItemId = action[i] as number;
    const ctx = batch.columns.context;
    if (isListColumn(ctx)) for (let i = 0; i < ctx.values.length; i++) if ((ctx.values[i] as number) > this.maxItemId) this.maxItemId = ctx.values[i] as number;

    const wanted = new Set(this.opts.splits);
    const evalIdx: number[] = [];
    const trainIdx: number[] = [];
    const room = this.opts.maxRows === undefined ? Infinity : this.opts.maxRows - this.kept;
    for (let i = 0; i < batch.numRows; i++) {
      const s = split[i] as number;
      if (s === SPLIT_CODES.train) trainIdx.push(i);
      if (wanted.has(s) && evalIdx.length < room) evalIdx.push(i);
    }
    if (trainIdx.length && this.opts.onTrain) this.opts.onTrain(batch, Int32Array.from(trainIdx));
    if (evalIdx.length === 0) return;
    const pid = partitionOf(batch);
    if (this.keep && !this.keep.has(pid.id)) {
      this.kept += evalIdx.length;
      return;
    }
    const cols: Record<string, Column> = {};
    for (const name of new Set([...this.opts.columns, 'split'])) cols[name] = column(batch, name);
    const projected: Batch = { table: batch.table, numRows: batch.numRows, columns: cols };
    const rows = takeRows(projected, Int32Array.from(evalIdx));
    rows.meta = undefined;
    let part = this.parts.get(pid.id);
    if (!part) this.parts.set(pid.id, (part = { label: pid.label, path: pid.path, batches: [] }));
    part.batches.push(rows);
    this.kept += evalIdx.length;
  }

  /** Evaluation rows per partition, in the order partitions first appeared. */
  partitions(): EvalPartition[] {
    return [...this.parts.entries()].map(([id, p]) => ({ id, label: p.label, ...(p.path ? { path: p.path } : {}), rows: concatBatches(p.batches) }));
  }

  get evalRows(): number {
    return this.kept;
  }
}

/** The context list column of evaluation rows, as int32 ids. */
export function contextsOf(batch: Batch): ListColumn<Int32Array> {
  const c = column(batch, 'context');
  if (!isListColumn(c)) throw new Error(`column "context" of a "${batch.table}" batch is not a list column`);
  if (c.values instanceof Int32Array) return c as ListColumn<Int32Array>;
  return { kind: 'list', offsets: c.offsets, values: Int32Array.from(c.values as ArrayLike<number>) };
}

/** An int32 view or copy of a numeric column. */
export function int32Of(batch: Batch, name: string): Int32Array {
  const c = numericColumn(batch, name);
  return c instanceof Int32Array ? c : Int32Array.from(c as ArrayLike<number>);
}
