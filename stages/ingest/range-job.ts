/**
 * One range parsed on a worker thread (or inline): its rows with indices of
 * the range's own vocabularies (first seen in the range = 1), those
 * vocabularies' raw ids in order, its rejections in order and its counts.
 * The caller merges the vocabularies in range order (vocab-merge.ts), so the
 * indices come out exactly as one sequential pass gives them.
 */
import type { Batch } from '../core/batch.js';
import { IdVocabulary, type ExportedIds } from './id-vocabulary.js';
import type { ParseSettings } from './ingest-inputs.js';
import type { ParquetReadWorker } from './parquet-read-worker.js';
import { CollectingRejector, parseRange, RangeStopped, rangeSink, type RangeTask, type RejectEntry } from './range-parse.js';
import type { RowSink } from './row-sink.js';

export interface RangeOutput {
  start: number;
  end: number;
  lines: number;
  rows: number;
  batches: Batch[];
  /** Raw ids of the range's local vocabularies; null where the rows hold indices of the fixed global vocabulary. */
  ids: { users: ExportedIds | null; items: ExportedIds | null; sessions: ExportedIds | null };
  entries: RejectEntry[];
  stats: RowSink['stats'];
  infos: string[];
}

/** Vocabularies of a fixed-vocabulary run (frozen), shared by every range a worker reads. */
export interface FixedVocabularies {
  users: IdVocabulary;
  items: IdVocabulary;
}

export async function runRangeJob(
  task: RangeTask,
  settings: ParseSettings,
  fixed: FixedVocabularies | null,
  parquet: () => ParquetReadWorker,
): Promise<RangeOutput> {
  const users = fixed ? fixed.users : new IdVocabulary('users');
  const items = fixed ? fixed.items : new IdVocabulary('items');
  const sessions = settings.withSessions ? new IdVocabulary('sessions') : null;
  const rejector = new CollectingRejector(!settings.quarantine);
  const infos: string[] = [];
  const sink = rangeSink(settings, { users, items, sessions }, rejector, (m) => infos.push(m));
  const batches: Batch[] = [];
  let parsed = { end: task.stop, lines: 0 };
  try {
    parsed = await parseRange(task, sink, settings, parquet, () => {
      batches.push(...sink.asm.ready.splice(0));
    });
  } catch (e) {
    // Strict mode: the first rejection ends the range; the caller replays it as the run's error.
    if (!(e instanceof RangeStopped)) throw e;
  }
  sink.asm.flush();
  batches.push(...sink.asm.ready.splice(0));
  return {
    start: task.start,
    end: parsed.end,
    lines: parsed.lines,
    rows: sink.asm.total,
    batches,
    ids: { users: fixed ? null : users.exportIds(), items: fixed ? null : items.exportIds(), sessions: sessions ? sessions.exportIds() : null },
    entries: rejector.entries,
    stats: sink.stats,
    infos,
  };
}

/** The buffers of a range's output, to transfer rather than copy between threads. */
export function transferList(out: RangeOutput): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const b of out.batches) for (const c of Object.values(b.columns)) if (ArrayBuffer.isView(c)) seen.add(c.buffer as ArrayBuffer);
  for (const ids of [out.ids.users, out.ids.items, out.ids.sessions]) if (ids) seen.add(ids.numbers.buffer as ArrayBuffer);
  return [...seen];
}
