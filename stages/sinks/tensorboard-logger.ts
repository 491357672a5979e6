/**
 * Metric records → TensorBoard scalars. One log subdirectory per method (so
 * TensorBoard lists each method as a run and overlays them), tag
 * `<split>/<metric>`, step = the record's step. A record of another run than
 * the pipeline's (e.g. read back from files) goes under `<run>/<method>`; a
 * record whose seed differs from the pipeline seed gets `-seed<seed>` on its
 * directory, so replicates do not write two values at one (tag, step).
 */
import * as path from 'node:path';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { EventFileWriter, type ScalarValue } from './tensorboard-events.js';

/** A path segment without separators or leading dots. */
function segment(s: string): string {
  const clean = s.replace(/[\\/:*?"<>|\s]+/g, '_').replace(/^\.+/, '_');
  return clean.length > 0 ? clean : '_';
}

export interface TensorboardLayout {
  /** The pipeline's run id and seed: records with these need no prefix or suffix. */
  runId: string;
  seed: number;
}

/** Log subdirectory (relative) of a record. */
export function runDirOf(r: Pick<MetricRecord, 'run' | 'method' | 'seed'>, layout: TensorboardLayout): string {
  const method = segment(r.method || 'run') + (r.seed !== layout.seed ? `-seed${r.seed}` : '');
  return r.run && r.run !== layout.runId ? path.join(segment(r.run), method) : method;
}

/** Tag of a record: `<split>/<metric>`, or the metric alone without a split. */
export function tagOf(r: Pick<MetricRecord, 'split' | 'metric'>): string {
  return r.split ? `${r.split}/${r.metric}` : r.metric;
}

/** Writes records to one event file per log subdirectory under `root`. */
export class TensorboardLogger {
  private readonly writers = new Map<string, EventFileWriter>();
  written = 0;

  constructor(
    readonly root: string,
    private readonly layout: TensorboardLayout,
    private readonly now?: () => number,
  ) {}

  /** Write records: one Event per (subdirectory, step), values in record order. */
  write(records: readonly MetricRecord[]): void {
    const groups = new Map<string, Map<number, ScalarValue[]>>();
    for (const r of records) {
      const dir = runDirOf(r, this.layout);
      let bySteps = groups.get(dir);
      if (!bySteps) groups.set(dir, (bySteps = new Map()));
      let values = bySteps.get(r.step);
      if (!values) bySteps.set(r.step, (values = []));
      values.push({ tag: tagOf(r), value: r.value });
    }
    for (const [dir, bySteps] of groups) {
      const w = this.writer(dir);
      for (const [step, values] of bySteps) {
        w.writeScalars(step, values);
        this.written += values.length;
      }
    }
  }

  private writer(dir: string): EventFileWriter {
    let w = this.writers.get(dir);
    if (!w) this.writers.set(dir, (w = new EventFileWriter(path.join(this.root, dir), this.now)));
    return w;
  }

  /** Event files written so far, by subdirectory. */
  files(): Map<string, string> {
    return new Map([...this.writers].map(([dir, w]) => [dir, w.file]));
  }

  close(): void {
    for (const w of this.writers.values()) w.close();
  }
}
