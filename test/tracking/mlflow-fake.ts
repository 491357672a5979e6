/**
 * A fake MLflow tracking server for the tests (node:http on 127.0.0.1, port 0):
 * the five endpoints the sink uses, each checking its method, path and body
 * shape as MLflow documents them; anything else is recorded as a violation.
 * `failures` makes the next calls of an endpoint answer 503 (retry tests);
 * `reject` makes log-batch answer 400 for a metric key.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRun {
  run_id: string;
  experiment_id: string;
  run_name: string;
  start_time: number;
  status: string;
  end_time?: number;
  tags: Map<string, string>;
  params: Map<string, string>;
  metrics: { key: string; value: number | string; timestamp: number; step: number }[];
}

export interface FakeMlflow {
  url: string;
  experiments: Map<string, string>;
  runs: Map<string, FakeRun>;
  calls: { method: string; path: string; status: number; metrics: number; params: number }[];
  violations: string[];
  failures: Map<string, number>;
  reject?: string;
  close(): Promise<void>;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const KEY = /^[\w\-. /]+$/;

export async function startFakeMlflow(): Promise<FakeMlflow> {
  const fake: FakeMlflow = { url: '', close: async () => undefined, experiments: new Map(), runs: new Map(), calls: [], violations: [], failures: new Map() };
  let nextId = 1;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const endpoint = url.pathname.replace(/^\/api\/2\.0\/mlflow\//, '');
      const call = { method: req.method ?? '', path: url.pathname, status: 200, metrics: 0, params: 0 };
      fake.calls.push(call);
      const send = (status: number, body: unknown) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const bad = (why: string) => {
        fake.violations.push(`${req.method} ${url.pathname}: ${why}`);
        send(400, { error_code: 'INVALID_PARAMETER_VALUE', message: why });
      };
      const left = fake.failures.get(endpoint) ?? 0;
      if (left > 0) {
        fake.failures.set(endpoint, left - 1);
        return send(503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'try again' });
      }
      if (req.headers['content-type'] !== 'application/json') fake.violations.push(`${url.pathname}: content-type ${req.headers['content-type']}`);
      let body: Record<string, unknown> = {};
      if (req.method === 'POST') {
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return bad('body is not JSON');
        }
      }
      const expect = (method: string) => {
        if (req.method !== method) {
          bad(`expected ${method}`);
          return false;
        }
        return true;
      };
      switch (endpoint) {
        case 'experiments/get-by-name': {
          if (!expect('GET')) return;
          const name = url.searchParams.get('experiment_name');
          if (!name) return bad('experiment_name missing');
          const id = fake.experiments.get(name);
          if (!id) return send(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Could not find experiment with name '${name}'` });
          return send(200, { experiment: { experiment_id: id, name, lifecycle_stage: 'active' } });
        }
        case 'experiments/create': {
          if (!expect('POST')) return;
          if (!isStr(body.name) || !body.name) return bad('name must be a non-empty string');
          if (fake.experiments.has(body.name)) return send(400, { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'exists' });
          const id = String(nextId++);
          fake.experiments.set(body.name, id);
          return send(200, { experiment_id: id });
        }
        case 'runs/create': {
          if (!expect('POST')) return;
          if (!isStr(body.experiment_id) || ![...fake.experiments.values()].includes(body.experiment_id)) return bad('unknown experiment_id');
          if (!isInt(body.start_time)) return bad('start_time must be an integer (ms)');
          if (!isStr(body.run_name)) return bad('run_name must be a string');
          const tags = body.tags as unknown;
          if (!Array.isArray(tags) || !tags.every((t: { key?: unknown; value?: unknown }) => isStr(t.key) && isStr(t.value))) return bad('tags must be [{key, value}] strings');
          const run: FakeRun = {
            run_id: `run${nextId++}`,
            experiment_id: body.experiment_id,
            run_name: body.run_name,
            start_time: body.start_time,
            status: 'RUNNING',
            tags: new Map(tags.map((t: { key: string; value: string }) => [t.key, t.value])),
            params: new Map(),
            metrics: [],
          };
          fake.runs.set(run.run_id, run);
          return send(200, { run: { info: { run_id: run.run_id, experiment_id: run.experiment_id, status: 'RUNNING' }, data: {} } });
        }
        case 'runs/log-batch': {
          if (!expect('POST')) return;
          const run = isStr(body.run_id) ? fake.runs.get(body.run_id) : undefined;
          if (!run) return bad('unknown run_id');
          const metrics = (body.metrics ?? []) as FakeRun['metrics'];
          const params = (body.params ?? []) as { key: string; value: string }[];
          const tags = (body.tags ?? []) as unknown[];
          call.metrics = metrics.length;
          call.params = params.length;
          if (!Array.isArray(metrics) || !Array.isArray(params) || !Array.isArray(tags)) return bad('metrics, params, tags must be arrays');
          if (metrics.length > 1000) return bad(`${metrics.length} metrics in one call (limit 1000)`);
          if (params.length > 100) return bad(`${params.length} params in one call (limit 100)`);
          if (metrics.length + params.length + tags.length > 1000) return bad('more than 1000 entities in one call');
          for (const m of metrics) {
            if (!isStr(m.key) || !KEY.test(m.key)) return bad(`invalid metric key ${JSON.stringify(m.key)}`);
            if (!(typeof m.value === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(m.value as string))) return bad(`invalid value for ${m.key}`);
            if (!isInt(m.timestamp) || !isInt(m.step)) return bad(`timestamp and step of ${m.key} must be integers`);
            if (m.key === fake.reject) return send(400, { error_code: 'INVALID_PARAMETER_VALUE', message: `metric ${m.key} is not allowed here` });
          }
          for (const p of params) {
            if (!isStr(p.key) || !KEY.test(p.key) || !isStr(p.value)) return bad(`invalid param ${JSON.stringify(p)}`);
            const old = run.params.get(p.key);
            if (old !== undefined && old !== p.value) return bad(`param ${p.key} changed`);
          }
          for (const p of params) run.params.set(p.key, p.value);
          run.metrics.push(...metrics);
          return send(200, {});
        }
        case 'runs/update': {
          if (!expect('POST')) return;
          const run = isStr(body.run_id) ? fake.runs.get(body.run_id) : undefined;
          if (!run) return bad('unknown run_id');
          if (!['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'].includes(body.status as string)) return bad(`bad status ${String(body.status)}`);
          if (!isInt(body.end_time)) return bad('end_time must be an integer');
          run.status = body.status as string;
          run.end_time = body.end_time;
          return send(200, { run_info: { run_id: run.run_id, status: run.status } });
        }
        default:
          fake.violations.push(`unknown endpoint ${req.method} ${url.pathname}`);
          return send(404, { error_code: 'ENDPOINT_NOT_FOUND', message: 'no such endpoint' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return fake;
}
