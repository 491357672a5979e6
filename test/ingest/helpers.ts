/** Shared helpers of the ingest tests: temporary dirs and a whole-run driver. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ingestFields, type IngestConfig } from '../../stages/ingest/ingest-config.js';
import { runIngest, type IngestSummary } from '../../stages/ingest/ingest-run.js';
import type { MetricRecord } from '../../schemas/metric-record.js';

export const SAMPLES = fileURLToPath(new URL('../../data/samples', import.meta.url));

const created: string[] = [];

/** A fresh temporary directory, removed when the test file ends. */
export function tmpDir(tag = 'ingest'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `recpost-${tag}-`));
  created.push(d);
  return d;
}

afterAll(() => {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Write `text` to a new file in `dir` and return its path. */
export function writeText(dir: string, name: string, text: string | Buffer): string {
  const f = path.join(dir, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
}

export interface RunOutcome {
  batches: Batch[];
  all: Batch | null;
  summary: IngestSummary;
  logs: string[];
  metrics: Omit<MetricRecord, 'run'>[];
}

/** Validate options like a pipeline would, run the ingest to its end, collect everything. */
export async function ingestAll(options: Record<string, unknown>): Promise<RunOutcome> {
  const cfg = validateConfig<IngestConfig>('ingest', ingestFields, { encode_in_worker: false, ...options });
  const log = memoryLogger();
  const metrics: Omit<MetricRecord, 'run'>[] = [];
  const gen = runIngest(cfg, { log, progress: false, emitMetric: (r) => metrics.push(r) });
  const batches: Batch[] = [];
  for (;;) {
    const step = await gen.next();
    if (step.done) {
      return { batches, all: batches.length ? concatBatches(batches) : null, summary: step.value, logs: log.lines, metrics };
    }
    batches.push(step.value);
  }
}

/** Rows of an interactions batch as plain tuples [user, item, timestamp, reward]. */
export function tuples(b: Batch): [number, number, number, number][] {
  const u = b.columns.user_id as Int32Array;
  const i = b.columns.item_id as Int32Array;
  const t = b.columns.timestamp as BigInt64Array;
  const r = b.columns.reward as Float32Array;
  return Array.from({ length: b.numRows }, (_, k) => [u[k]!, i[k]!, Number(t[k]!), r[k]!]);
}
