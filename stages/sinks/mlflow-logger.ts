/**
 * One recpost run as one MLflow run: params from the pipeline (the run
 * record's resolved stages, flattened), metric records as MLflow metrics,
 * sent in runs/log-batch calls within MLflow's limits, in arrival order, and
 * the run closed FINISHED or FAILED.
 *
 * Metric keys: `<method>/<split>/<metric>`, with `-seed<seed>` on the method
 * when the seed differs from the pipeline's and `<run>/` in front for a record
 * of another run; characters MLflow rejects in keys become `_` (`@` becomes
 * `_at_`: `valid/ndcg@10` → `valid/ndcg_at_10`).
 */
import type { MetricRecord } from '../../schemas/metric-record.js';
import { LOG_BATCH_LIMITS, type KeyValue, type MlflowClient, type MlflowMetric } from './mlflow-client.js';

/**
 * The fields of the runner's <out_dir>/run.json (pipelines/run-record.ts,
 * RunRecord) that the sink reads; declared here because the library never
 * imports pipelines/.
 */
export interface RunRecordFields {
  pipeline: { name: string; seed: number; stages: { id: string; stage: string; with: Record<string, unknown> }[] };
  recpost?: string;
  pipeline_file?: string;
  git?: { commit: string; dirty: boolean };
}

/** MLflow's longest key and param value (mlflow/utils/validation.py: 250 and 6000). */
const MAX_KEY = 250;
const MAX_PARAM_VALUE = 6000;

/** A name MLflow accepts as a metric or param key: alphanumerics, _ - . space / only. */
export function mlflowKey(name: string): string {
  return name
    .replace(/@/g, '_at_')
    .replace(/[^\w\-. /]/g, '_')
    .slice(0, MAX_KEY);
}

export function metricKeyOf(r: MetricRecord, layout: { runId: string; seed: number }): string {
  const method = (r.method || 'run') + (r.seed !== layout.seed ? `-seed${r.seed}` : '');
  const parts = [...(r.run && r.run !== layout.runId ? [r.run] : []), method, ...(r.split ? [r.split] : []), r.metric];
  return mlflowKey(parts.join('/'));
}

/** proto3 JSON form of a double: numbers, or the strings "NaN", "Infinity", "-Infinity". */
function jsonDouble(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function paramValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > MAX_PARAM_VALUE ? `${s.slice(0, MAX_PARAM_VALUE - 3)}...` : s;
}

/**
 * Params of a run record's pipeline: `name`, `seed`, and `<stage id>.<option>`
 * for every stage option, nested objects flattened with dots, arrays as JSON.
 */
export function pipelineParams(record: Pick<RunRecordFields, 'pipeline'>): KeyValue[] {
  const out: KeyValue[] = [
    { key: 'name', value: record.pipeline.name },
    { key: 'seed', value: String(record.pipeline.seed) },
  ];
  const walk = (prefix: string, v: unknown) => {
    if (v === undefined) return;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(`${prefix}.${k}`, x);
      return;
    }
    out.push({ key: mlflowKey(prefix), value: paramValue(v) });
  };
  for (const s of record.pipeline.stages) walk(s.id, s.with);
  // Keys must be unique in a run (params are immutable): keep the first of any clash made by sanitising.
  const seen = new Set<string>();
  return out.filter((p) => (seen.has(p.key) ? false : (seen.add(p.key), true)));
}

/** Split `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface MlflowRunOptions {
  experiment: string;
  runName: string;
  params: KeyValue[];
  tags: KeyValue[];
  layout: { runId: string; seed: number };
  /** Send buffered metrics once this many are waiting (≤ 1000) … */
  flushEvery?: number;
  /** … or when this many ms passed since the last send (default 5000). */
  flushAfterMs?: number;
}

/**
 * Queues the calls so they run in order without blocking the stream; the
 * first failure stops the queue and is thrown by finish().
 */
export class MlflowRunLogger {
  runId: string | undefined;
  experimentId: string | undefined;
  logged = 0;
  private pending: MlflowMetric[] = [];
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private lastSend = Date.now();

  constructor(
    private readonly client: MlflowClient,
    private readonly opts: MlflowRunOptions,
  ) {}

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      try {
        await task();
      } catch (e) {
        this.failure = e;
      }
    });
  }

  /** Find or create the experiment, create the run, log params and tags (queued). */
  start(): void {
    const startTime = Date.now();
    this.enqueue(async () => {
      this.experimentId = await this.client.experimentId(this.opts.experiment);
      this.runId = await this.client.createRun(this.experimentId, this.opts.runName, startTime, this.opts.tags);
      for (const params of chunks(this.opts.params, LOG_BATCH_LIMITS.params)) await this.client.logBatch(this.runId, { params });
    });
  }

  /** Buffer records; send when enough are waiting or enough time passed. */
  add(records: readonly MetricRecord[]): void {
    const now = Date.now();
    for (const r of records) this.pending.push({ key: metricKeyOf(r, this.opts.layout), value: jsonDouble(r.value), timestamp: now, step: r.step });
    const every = Math.min(this.opts.flushEvery ?? LOG_BATCH_LIMITS.metrics, LOG_BATCH_LIMITS.metrics);
    if (this.pending.length >= every || (this.pending.length > 0 && now - this.lastSend >= (this.opts.flushAfterMs ?? 5000))) this.flush();
  }

  /** Send everything buffered (queued). */
  flush(): void {
    const metrics = this.pending;
    this.pending = [];
    this.lastSend = Date.now();
    if (metrics.length === 0) return;
    this.enqueue(async () => {
      for (const chunk of chunks(metrics, LOG_BATCH_LIMITS.metrics)) {
        await this.client.logBatch(this.runId!, { metrics: chunk });
        this.logged += chunk.length;
      }
    });
  }

  /** Send the rest and close the run FINISHED (FAILED when `failed` or a call failed); throws the first failure. */
  async finish(failed = false): Promise<void> {
    this.flush();
    await this.queue;
    const end = Date.now();
    if (this.failure !== undefined) {
      // Best effort: mark the run failed if it exists; the original failure is what the caller needs.
      if (this.runId) await this.client.updateRun(this.runId, 'FAILED', end).catch(() => undefined);
      throw this.failure;
    }
    await this.client.updateRun(this.runId!, failed ? 'FAILED' : 'FINISHED', end);
  }
}
