/**
 * <out_dir>/metrics.jsonl, written so that a kill loses nothing.
 *
 * Every record is appended as one line with one write(2) on a file opened
 * O_APPEND, as it is emitted, so the records of a run killed at any point are
 * on disk up to the last whole line (a torn last line is dropped on the next
 * open).
 *
 * A fresh run starts the file anew (as before). A resumed run (a pipeline with
 * a trainer stage that has `resume: true` or `resume_from`) keeps the records
 * already there and appends its own; when it ends, a record of an earlier
 * attempt is dropped if this attempt emitted a record with the same key (run,
 * method, seed, step, epoch, split, metric). So the steps a resumed trainer
 * redoes (those after its checkpoint) and the stages that run again replace
 * their earlier records instead of doubling them, and the records of steps
 * before the checkpoint survive. If the resumed run is killed too, the next
 * open still knows where each attempt began (`metrics.jsonl.attempts`, removed
 * at a clean close) and applies the same rule attempt by attempt.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../stages/core/config-schema.js';
import { sha256Hex } from '../stages/core/content-hash.js';
import { metricRecordLine, type MetricRecord } from '../schemas/metric-record.js';
import type { ResolvedPipeline } from './spec.js';

export const METRICS_FILE = 'metrics.jsonl';
const ATTEMPTS_SUFFIX = '.attempts';

interface AttemptsFile {
  version: 1;
  /** Byte offsets where each attempt's records begin. */
  starts: number[];
  /** SHA-256 of the bytes before the last start: a file rewritten since (compacted) no longer matches. */
  prefixSha256: string;
}

export interface MetricsLog {
  readonly file: string;
  /** Append one record (one line, one write). */
  write(rec: MetricRecord): void;
  /** Close; a resumed run drops the earlier records it replaced. */
  close(): void;
}

/** Whether a pipeline resumes training: some stage has `resume: true` or a `resume_from`. */
export function pipelineResumes(p: Pick<ResolvedPipeline, 'stages'>): boolean {
  return p.stages.some((s) => s.config.resume === true || typeof s.config.resume_from === 'string');
}

interface Line {
  text: string;
  key: string;
}

/** The identity of a record in the log: everything but value and count. */
function lineKey(text: string, file: string, lineNo: number): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${file}:${lineNo}: not a JSON metric record; remove the line or the file to start the log anew`, ['metrics']);
  }
  return JSON.stringify([r.run, r.method, r.seed, r.step, r.epoch, r.split, r.metric]);
}

/** Complete lines of `text` (a torn last line without its newline is dropped). */
function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  return end < 0
    ? []
    : text
        .slice(0, end)
        .split('\n')
        .filter((l) => l.length > 0);
}

/** Later attempts replace the records of earlier ones that share a key. */
export function compactAttempts(attempts: readonly Line[][]): Line[] {
  let kept: Line[] = [];
  for (const attempt of attempts) {
    const keys = new Set(attempt.map((l) => l.key));
    kept = [...kept.filter((l) => !keys.has(l.key)), ...attempt];
  }
  return kept;
}

/** The records of earlier attempts, split where each attempt began. */
function readAttempts(file: string): Line[][] {
  if (!fs.existsSync(file)) return [];
  const bytes = fs.readFileSync(file);
  let starts = [0];
  const marker = `${file}${ATTEMPTS_SUFFIX}`;
  if (fs.existsSync(marker)) {
    try {
      const a = JSON.parse(fs.readFileSync(marker, 'utf8')) as AttemptsFile;
      const last = a.starts.at(-1) ?? 0;
      if (a.version === 1 && last <= bytes.length && sha256Hex(bytes.subarray(0, last)) === a.prefixSha256) starts = a.starts;
    } catch {
      // An unreadable marker: the file is read as one attempt.
    }
  }
  let lineNo = 0;
  return starts.map((from, i) => {
    const to = starts[i + 1] ?? bytes.length;
    return completeLines(bytes.subarray(from, to).toString('utf8')).map((text) => ({ text, key: lineKey(text, file, ++lineNo) }));
  });
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Open <outDir>/metrics.jsonl for a run: anew, or (resume) keeping earlier records. */
export function openMetricsLog(outDir: string, opts: { resume: boolean }): MetricsLog {
  const file = path.join(outDir, METRICS_FILE);
  const marker = `${file}${ATTEMPTS_SUFFIX}`;
  let earlier: Line[] = [];
  if (opts.resume) {
    earlier = compactAttempts(readAttempts(file));
    writeAtomic(file, earlier.map((l) => `${l.text}\n`).join(''));
  } else writeAtomic(file, '');
  const prefix = fs.readFileSync(file);
  const attempts: AttemptsFile = {
    version: 1,
    starts: earlier.length ? [0, prefix.length] : [0],
    prefixSha256: sha256Hex(earlier.length ? prefix : new Uint8Array()),
  };
  writeAtomic(marker, JSON.stringify(attempts));
  const fd = fs.openSync(file, 'a');
  const emitted = new Set<string>();
  let open = true;
  return {
    file,
    write(rec) {
      const line = metricRecordLine(rec);
      fs.writeSync(fd, line);
      if (earlier.length) emitted.add(JSON.stringify([rec.run, rec.method, rec.seed, rec.step, rec.epoch, rec.split, rec.metric]));
    },
    close() {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
      if (earlier.length && emitted.size) {
        // Keep the earlier records this attempt did not redo, then this attempt's, in order.
        const text = fs.readFileSync(file).subarray(prefix.length).toString('utf8');
        const mine = completeLines(text);
        const kept = earlier.filter((l) => !emitted.has(l.key)).map((l) => l.text);
        writeAtomic(file, [...kept, ...mine].map((l) => `${l}\n`).join(''));
      }
      fs.rmSync(marker, { force: true });
    },
  };
}
