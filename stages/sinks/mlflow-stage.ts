/** `mlflow` sink: the run's params and metric records logged to an MLflow tracking server over its REST API. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import { defineStage } from '../core/stage.js';
import { MlflowClient, type KeyValue } from './mlflow-client.js';
import { mlflowKey, MlflowRunLogger, pipelineParams, type RunRecordFields } from './mlflow-logger.js';
import { recordsField, sinkThrough, type RecordsSource } from './report-input.js';
import { pollEvery, pollSecondsField, TrackingFeed } from './tracking-feed.js';

export interface MlflowConfig {
  tracking_uri?: string;
  experiment?: string;
  run_name?: string;
  params: Record<string, string>;
  records: RecordsSource;
  retries: number;
  poll_seconds: number;
}

/** The runner's record of this run (pipelines/run-record.ts), absent when the runner writes no files. */
function readRunRecord(outDir: string): RunRecordFields | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(outDir, 'run.json'), 'utf8')) as RunRecordFields;
  } catch {
    return undefined;
  }
}

export const mlflowStage = defineStage<MlflowConfig>({
  name: 'mlflow',
  role: 'sink',
  summary: 'Log the pipeline as params and metric records as metrics to an MLflow tracking server (REST API) and pass the batches on.',
  doc: [
    'Finds or creates the experiment, creates one MLflow run, logs the pipeline as params (`name`, `seed`,',
    '`<stage id>.<option>` from <out_dir>/run.json) plus `params`, tags the run with the recpost version, the pipeline',
    'file and the git commit, then logs metric records as they arrive (runs/log-batch, at most 1000 metrics and 100',
    'params per call; buffered until 1000 wait or 5 s passed; run records also every `poll_seconds`) and sets the run FINISHED at the end, FAILED if the',
    'pipeline fails. Metric keys are `<method>/<split>/<metric>` with characters MLflow rejects replaced (`@` → `_at_`).',
    '5xx answers and network errors are retried with exponential backoff (0.25 s doubling, `retries` times); a 4xx',
    'answer fails the run with MLflow\'s message. MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD are sent',
    'as MLflow\'s own clients send them.',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    tracking_uri: { type: 'string', doc: 'Tracking server URL, e.g. http://127.0.0.1:5000 (default: the MLFLOW_TRACKING_URI environment variable).' },
    experiment: { type: 'string', doc: 'Experiment name, created if missing (default: the pipeline name).' },
    run_name: { type: 'string', doc: 'MLflow run name (default: the pipeline name).' },
    params: { type: 'map', values: { type: 'string', doc: 'value' }, default: {}, doc: 'Extra params to log beside the pipeline\'s.' },
    records: recordsField,
    retries: { type: 'integer', min: 0, max: 20, default: 5, doc: 'Retries of a call answered 5xx or lost on the network.' },
    poll_seconds: pollSecondsField,
  },
  create(cfg, ctx) {
    const trackingUri = cfg.tracking_uri ?? process.env.MLFLOW_TRACKING_URI;
    if (!trackingUri) throw new ConfigError('mlflow: no tracking server: set the option tracking_uri or the environment variable MLFLOW_TRACKING_URI', ['tracking_uri']);
    const client = new MlflowClient({ trackingUri, retries: cfg.retries });
    return {
      apply: (input) => {
        const record = readRunRecord(ctx.outDir);
        const params: KeyValue[] = [
          ...(record ? pipelineParams(record) : [{ key: 'name', value: ctx.runId }, { key: 'seed', value: String(ctx.seed) }]),
          ...Object.entries(cfg.params).map(([key, value]) => ({ key: mlflowKey(key), value })),
        ];
        const tags: KeyValue[] = [
          { key: 'mlflow.runName', value: cfg.run_name ?? ctx.runId },
          ...(record?.recpost ? [{ key: 'recpost.version', value: record.recpost }] : []),
          ...(record?.pipeline_file ? [{ key: 'mlflow.source.name', value: record.pipeline_file }] : []),
          ...(record?.git ? [{ key: 'mlflow.source.git.commit', value: record.git.commit }] : []),
        ];
        const logger = new MlflowRunLogger(client, { experiment: cfg.experiment ?? ctx.runId, runName: cfg.run_name ?? ctx.runId, params, tags, layout: { runId: ctx.runId, seed: ctx.seed } });
        logger.start();
        const feed = new TrackingFeed(cfg.records, ctx);
        const stopPolling = pollEvery(cfg.poll_seconds, () => logger.add(feed.fromRunRecords()));
        return sinkThrough(input, {
          each: (b) => {
            logger.add(feed.fromBatch(b));
            logger.add(feed.fromRunRecords());
          },
          end: async () => {
            stopPolling();
            logger.add(feed.fromRunRecords());
            await logger.finish();
            ctx.artifacts.set('mlflow', { trackingUri, experimentId: logger.experimentId, runId: logger.runId, metrics: logger.logged });
            ctx.log.info(`mlflow: ${logger.logged} metric(s) → run ${logger.runId} of experiment "${cfg.experiment ?? ctx.runId}" at ${trackingUri}`);
          },
          onError: () => {
            stopPolling();
            logger.finish(true).catch(() => undefined);
          },
        });
      },
    };
  },
});
