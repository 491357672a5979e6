/**
 * One scan of `evaluate --watch`: find the committed checkpoints and data
 * partitions (committed datasets, watch-datasets.ts), evaluate every
 * (checkpoint, dataset) unit not yet evaluated, and hand on the records of
 * each unit that got new pairs.
 *
 * Nothing is evaluated twice: the evaluation state (eval-state.ts) keys pairs
 * by content — a checkpoint by its hashes, a part file by its bytes — and the
 * evaluation stage skips pairs it holds; a unit whose every part file is done
 * for a checkpoint is not even read. A unit is remembered as settled for the
 * life of the process once it has been through the stage, so a dataset whose
 * files have no evaluation rows is read once per process, not once per scan.
 *
 * Half-written things are never seen: checkpoint writes are renamed into
 * place (`step-N.tmp-…` is skipped by findCheckpoints) and datasets count only
 * once their manifest is there. A dataset that fails to read because it was
 * being replaced meanwhile (a DatasetError) is reported and tried again at the
 * next scan; other errors end the watch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { DatasetError } from '../io/manifest.js';
import { listParquetFiles } from '../io/parquet.js';
import type { CheckpointRef } from './checkpoints.js';
import { checkpointIdentity, dataFileIdentity } from './content-identity.js';
import { readDonePairs } from './eval-state.js';
import { findCheckpoints } from './find-checkpoints.js';
import { committedDatasets, type WatchedDataset } from './watch-datasets.js';
import { pairKey, unitRecords, type StoredPair } from './watch-records.js';

export interface WatchedUnit {
  checkpoint: CheckpointRef;
  dataset: WatchedDataset;
  /** Pairs (checkpoint, part file) this unit added to the state. */
  pairs: number;
  records: MetricRecord[];
}

export interface ScanSummary {
  checkpoints: number;
  datasets: number;
  /** Units evaluated in this scan. */
  evaluated: number;
  /** Pairs the state holds after the scan. */
  pairsDone: number;
}

export interface EvaluationWatcherOptions {
  /** Checkpoint directories (each searched like `evaluate`'s argument). */
  checkpointRoots: readonly string[];
  /** The data path: a dataset, or a directory of datasets. */
  dataRoot: string;
  /** The evaluation state file (required: it is what makes the watch resumable). */
  stateFile: string;
  /** Run label of the records; a dataset below a directory of datasets adds ":<its name>". */
  run: string;
  std?: boolean;
  /** Evaluate `checkpoints` on `dataset` through the evaluation stage with the state file. */
  evaluate(dataset: WatchedDataset, checkpoints: CheckpointRef[]): Promise<void>;
  /** A unit's records, as soon as it is evaluated. */
  onUnit(unit: WatchedUnit): void;
  /** A one-line notice (a dataset that could not be read yet). */
  onNotice(line: string): void;
}

/** Checkpoints below every root, each directory once. */
function checkpointsBelow(roots: readonly string[]): CheckpointRef[] {
  const seen = new Set<string>();
  return roots
    .flatMap((r) => findCheckpoints(r))
    .filter((c) => {
      const abs = path.resolve(c.dir);
      if (seen.has(abs)) return false;
      seen.add(abs);
      return true;
    });
}

export class EvaluationWatcher {
  /** `${checkpoint id}\0${dataset id}` of units that went through the stage in this process. */
  private readonly settled = new Set<string>();
  private readonly notices = new Set<string>();

  constructor(private readonly opts: EvaluationWatcherOptions) {}

  private pairsRead: { stamp: string; pairs: StoredPair[] } | undefined;

  /** The state's pairs, parsed again only when the file changed (it is read at every scan). */
  private donePairs(): StoredPair[] {
    let stamp = 'absent';
    try {
      const st = fs.statSync(this.opts.stateFile, { bigint: true });
      stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      // no state yet
    }
    if (this.pairsRead?.stamp !== stamp) this.pairsRead = { stamp, pairs: readDonePairs(this.opts.stateFile) };
    return this.pairsRead.pairs;
  }

  private notice(line: string): void {
    if (this.notices.has(line)) return;
    this.notices.add(line);
    this.opts.onNotice(line);
  }

  /** The run label of a dataset's records. */
  runLabel(dataset: WatchedDataset): string {
    return dataset.name === '' ? this.opts.run : `${this.opts.run}:${dataset.name}`;
  }

  /** One pass over what is committed now; `stopping` is asked between units. */
  async scan(stopping: () => boolean = () => false): Promise<ScanSummary> {
    const checkpoints = checkpointsBelow(this.opts.checkpointRoots);
    const datasets = committedDatasets(this.opts.dataRoot);
    let pairs = this.donePairs();
    let evaluated = 0;
    for (const dataset of datasets) {
      if (stopping()) break;
      let partIds: string[];
      try {
        partIds = listParquetFiles(dataset.dir).map((f) => dataFileIdentity(path.resolve(f)) ?? `path:${path.resolve(f)}`);
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        this.notice(`watch: ${dataset.dir}: ${e.message}; trying again at the next change`);
        continue;
      }
      const datasetId = partIds.join('\u0001');
      const done = new Set(pairs.map((p) => pairKey(p.target, p.partition)));
      const pending = checkpoints
        .map((checkpoint) => ({ checkpoint, id: checkpointIdentity(checkpoint.dir) }))
        .filter(({ id }) => {
          const unit = `${id}\u0000${datasetId}`;
          if (this.settled.has(unit)) return false;
          if (partIds.length > 0 && partIds.every((p) => done.has(pairKey(id, p)))) {
            this.settled.add(unit);
            return false;
          }
          return true;
        });
      if (pending.length === 0) continue;
      try {
        await this.opts.evaluate(
          dataset,
          pending.map((p) => p.checkpoint),
        );
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        this.notice(`watch: ${dataset.dir}: ${e.message}; trying again at the next change`);
        continue;
      }
      pairs = this.donePairs();
      const nowDone = new Set(pairs.map((p) => pairKey(p.target, p.partition)));
      for (const { checkpoint, id } of pending) {
        this.settled.add(`${id}\u0000${datasetId}`);
        const added = partIds.filter((p) => !done.has(pairKey(id, p)) && nowDone.has(pairKey(id, p))).length;
        if (added === 0) continue;
        evaluated++;
        this.opts.onUnit({ checkpoint, dataset, pairs: added, records: unitRecords(pairs, id, partIds, this.runLabel(dataset), this.opts.std) });
      }
    }
    return { checkpoints: checkpoints.length, datasets: datasets.length, evaluated, pairsDone: pairs.length };
  }
}
