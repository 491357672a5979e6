/**
 * The ingest on several threads: byte ranges (byte-ranges.ts) parsed by a
 * pool of worker threads (range-pool.ts), each with its own vocabularies,
 * and taken back here strictly in range order, so that everything comes out
 * as the sequential ingest makes it:
 *
 * - vocabularies: each range's ids, in its first-seen order, are looked up in
 *   (or appended to) the run's vocabularies in range order, and its rows'
 *   local indices replaced by the global ones (vocab-merge.ts) — one pass,
 *   no second read of the input: first id seen = 1, in file order, also when
 *   extending loaded vocabularies (with `vocab: fixed` the workers hold the
 *   frozen vocabularies and no remapping is needed);
 * - rows: re-cut into the configured batches (rebatch.ts);
 * - rejections: replayed in order into the run's rejector, each line number
 *   shifted by the lines of the file's earlier ranges (a range counts its own
 *   lines), so quarantine entries and strict errors name the same line;
 * - quoted records across a cut: a range must start where the previous range
 *   of its file ended; if not, it is parsed again from there.
 *
 * Memory: at most `window` ranges are parsed or waiting at once, so it is
 * bounded by window × (range bytes and its rows), whatever the input size.
 */
import type { IdVocabulary } from './id-vocabulary.js';
import type { PlannedRange } from './byte-ranges.js';
import type { RangeOutput } from './range-job.js';
import type { RangeWorkerPool } from './range-pool.js';
import type { Rebatcher } from './rebatch.js';
import type { Rejector } from './rejects.js';
import type { RowSink } from './row-sink.js';
import { applyRemap, mergeIds } from './vocab-merge.js';

export interface RangeMergeTarget {
  users: IdVocabulary;
  items: IdVocabulary;
  sessions: IdVocabulary | null;
  rejector: Rejector;
  stats: RowSink['stats'];
  info(msg: string): void;
  rows: Rebatcher;
}

/** Merge one range's output into the run (vocabularies, rejections, counts, rows), shifting its line numbers by `lineOffset`. */
export function mergeRangeOutput(out: RangeOutput, t: RangeMergeTarget, lineOffset: number): void {
  for (const m of out.infos) t.info(m);
  const remaps: [string, Int32Array][] = [];
  if (out.ids.users) remaps.push(['user_id', mergeIds(t.users, out.ids.users)]);
  if (out.ids.items) remaps.push(['item_id', mergeIds(t.items, out.ids.items)]);
  if (out.ids.sessions && t.sessions) remaps.push(['session_id', mergeIds(t.sessions, out.ids.sessions)]);
  for (const b of out.batches) for (const [name, remap] of remaps) applyRemap(b.columns[name] as Int32Array, remap);
  t.stats.rowsIn += out.stats.rowsIn;
  t.stats.blankLines += out.stats.blankLines;
  t.stats.skippedFiles += out.stats.skippedFiles;
  t.stats.skippedLines += out.stats.skippedLines;
  for (const b of out.batches) t.rows.push(b);
  for (const e of out.entries) {
    if ('row' in e) t.rejector.reject({ ...e.row, line: e.row.line + lineOffset });
    else t.rejector.rejectFile(e.file);
  }
}

/**
 * Parse `ranges` on `pool` and merge them into `t` in order; yields the bytes
 * of input done after each range.
 */
export async function* ingestRanges(ranges: PlannedRange[], pool: RangeWorkerPool, t: RangeMergeTarget, window: number): AsyncGenerator<number> {
  const pending = new Map<number, Promise<RangeOutput>>();
  let next = 0;
  const submit = (upTo: number) => {
    for (; next < ranges.length && next < upTo; next++) {
      const p = pool.parse(ranges[next]!);
      p.catch(() => undefined); // reported when awaited
      pending.set(next, p);
    }
  };
  /** Per file: where its last range read ended, and the lines read so far. */
  const ended = new Map<string, { end: number; lines: number }>();
  let bytes = 0;
  let warned = false;
  for (let i = 0; i < ranges.length; i++) {
    submit(i + window);
    const r = ranges[i]!;
    let out = await pending.get(i)!;
    pending.delete(i);
    const before = ended.get(r.file) ?? { end: 0, lines: 0 };
    if (r.start !== 0 && before.end !== r.start) {
      // The previous range's last record (a quoted field with a line break) ran past this range's start.
      if (!warned) t.info(`ingest: ${r.file}: a quoted record spans the range boundary at byte ${r.start}; that range is read again from byte ${before.end}`);
      warned = true;
      if (before.end >= r.stop) {
        bytes += r.stop - r.start;
        yield bytes;
        continue;
      }
      out = await pool.parse({ ...r, start: before.end });
    }
    mergeRangeOutput(out, t, before.lines);
    ended.set(r.file, { end: out.end, lines: before.lines + out.lines });
    bytes += r.stop - r.start;
    yield bytes;
  }
}
