/**
 * A small client of MLflow's REST API (api/2.0/mlflow): the calls a tracking
 * sink needs, JSON over fetch, retried with exponential backoff on 5xx
 * responses and network errors. A 4xx answer (bad name, unknown run) is a
 * configuration mistake and fails at once with MLflow's error message; so
 * does a server still unreachable after the retries.
 *
 * Authentication as MLflow's own clients read it from the environment:
 * MLFLOW_TRACKING_TOKEN (Bearer), else MLFLOW_TRACKING_USERNAME/PASSWORD (Basic).
 */
import { ConfigError } from '../core/config-schema.js';

/** MLflow's documented per-request limits of runs/log-batch. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

export interface MlflowMetric {
  key: string;
  /** Number, or "NaN"/"Infinity"/"-Infinity" (the proto3 JSON form of non-finite doubles). */
  value: number | string;
  timestamp: number;
  step: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowClientOptions {
  /** Base URI of the tracking server, e.g. http://127.0.0.1:5000. */
  trackingUri: string;
  /** Tries after the first one on 5xx and network errors (default 5). */
  retries?: number;
  /** First backoff delay in ms, doubled per retry, capped at 8 s (default 250). */
  backoffMs?: number;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function authHeader(env: Record<string, string | undefined>): Record<string, string> {
  if (env.MLFLOW_TRACKING_TOKEN) return { authorization: `Bearer ${env.MLFLOW_TRACKING_TOKEN}` };
  if (env.MLFLOW_TRACKING_USERNAME) {
    const basic = Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD ?? ''}`).toString('base64');
    return { authorization: `Basic ${basic}` };
  }
  return {};
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}

export class MlflowClient {
  private readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  /** Requests sent, retries included (for reports and tests). */
  requests = 0;

  constructor(opts: MlflowClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.trackingUri);
    } catch {
      throw new ConfigError(`mlflow: tracking_uri ${JSON.stringify(opts.trackingUri)} is not a URL (expected e.g. http://127.0.0.1:5000)`, ['tracking_uri']);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`mlflow: tracking_uri ${JSON.stringify(opts.trackingUri)} must be http:// or https:// (file stores are not supported)`, ['tracking_uri']);
    }
    this.base = url.href.replace(/\/+$/, '');
    this.retries = opts.retries ?? 5;
    this.backoffMs = opts.backoffMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.headers = { 'content-type': 'application/json', ...authHeader(opts.env ?? process.env) };
  }

  private async call<T>(method: 'GET' | 'POST', endpoint: string, body?: unknown, query?: Record<string, string>): Promise<T> {
    const url = `${this.base}/api/2.0/mlflow/${endpoint}${query ? `?${new URLSearchParams(query)}` : ''}`;
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(8000, this.backoffMs * 2 ** (attempt - 1)));
      this.requests++;
      try {
        const res = await fetch(url, {
          method,
          headers: this.headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text();
        if (res.ok) return (text ? JSON.parse(text) : {}) as T;
        if (res.status < 500) throw new HttpStatusError(res.status, text);
        lastProblem = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      } catch (e) {
        if (e instanceof HttpStatusError) throw e;
        lastProblem = (e as Error).cause ? String(((e as Error).cause as Error).message ?? (e as Error).cause) : (e as Error).message;
      }
    }
    throw new ConfigError(`mlflow: ${method} ${url} failed after ${this.retries + 1} tries (${lastProblem})`, ['mlflow']);
  }

  private async request<T>(method: 'GET' | 'POST', endpoint: string, body?: unknown, query?: Record<string, string>): Promise<T> {
    try {
      return await this.call<T>(method, endpoint, body, query);
    } catch (e) {
      if (!(e instanceof HttpStatusError)) throw e;
      throw new ConfigError(`mlflow: ${method} ${endpoint} was refused (HTTP ${e.status}: ${mlflowMessage(e.body)})`, ['mlflow']);
    }
  }

  /** The id of experiment `name`, created when it does not exist. */
  async experimentId(name: string): Promise<string> {
    try {
      const r = await this.call<{ experiment: { experiment_id: string } }>('GET', 'experiments/get-by-name', undefined, { experiment_name: name });
      return r.experiment.experiment_id;
    } catch (e) {
      if (!(e instanceof HttpStatusError) || !(e.status === 404 || e.body.includes('RESOURCE_DOES_NOT_EXIST'))) {
        if (e instanceof HttpStatusError) throw new ConfigError(`mlflow: experiments/get-by-name was refused (HTTP ${e.status}: ${mlflowMessage(e.body)})`, ['mlflow']);
        throw e;
      }
    }
    const created = await this.request<{ experiment_id: string }>('POST', 'experiments/create', { name });
    return created.experiment_id;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: KeyValue[]): Promise<string> {
    const r = await this.request<{ run: { info: { run_id: string } } }>('POST', 'runs/create', { experiment_id: experimentId, run_name: runName, start_time: startTime, tags });
    return r.run.info.run_id;
  }

  /** One runs/log-batch call; the caller keeps within LOG_BATCH_LIMITS. */
  async logBatch(runId: string, batch: { metrics?: MlflowMetric[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    await this.request('POST', 'runs/log-batch', { run_id: runId, metrics: batch.metrics ?? [], params: batch.params ?? [], tags: batch.tags ?? [] });
  }

  async updateRun(runId: string, status: RunStatus, endTime: number): Promise<void> {
    await this.request('POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }
}

/** MLflow's JSON error `{error_code, message}` as one line, or the raw body. */
function mlflowMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error_code?: string; message?: string };
    if (j.message || j.error_code) return [j.error_code, j.message].filter(Boolean).join(': ');
  } catch {
    // not JSON
  }
  return body.slice(0, 200) || 'no message';
}
