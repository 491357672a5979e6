/** `tensorboard` sink: metric records as TensorBoard scalars (event files), written as they arrive. */
import * as path from 'node:path';
import { defineStage } from '../core/stage.js';
import { recordsField, sinkThrough, type RecordsSource } from './report-input.js';
import { TensorboardLogger } from './tensorboard-logger.js';
import { pollEvery, pollSecondsField, TrackingFeed } from './tracking-feed.js';

export interface TensorboardConfig {
  path?: string;
  records: RecordsSource;
  poll_seconds: number;
}

export const tensorboardStage = defineStage<TensorboardConfig>({
  name: 'tensorboard',
  role: 'sink',
  summary: 'Write metric records as TensorBoard scalars (standard event files) and pass the batches on.',
  doc: [
    'One log subdirectory per method (TensorBoard shows each as a run), tag `<split>/<metric>`, step = the record\'s',
    'step, one file `events.out.tfevents.<time>.<host>` per subdirectory. Records of another run than the pipeline\'s',
    'go under `<run>/<method>`; records whose seed differs from the pipeline seed under `<method>-seed<seed>`.',
    'Records are written as they arrive (stream batches; run records each time a batch passes and every',
    '`poll_seconds`), so `tensorboard --logdir <path>` shows training while it runs. Values are float32 (simple_value).',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    path: { type: 'string', doc: 'Log directory (default `<out_dir>/tensorboard`).' },
    records: recordsField,
    poll_seconds: pollSecondsField,
  },
  create(cfg, ctx) {
    return {
      apply: (input) => {
        const logger = new TensorboardLogger(cfg.path ?? path.join(ctx.outDir, 'tensorboard'), { runId: ctx.runId, seed: ctx.seed });
        const feed = new TrackingFeed(cfg.records, ctx);
        const timed = (fn: () => void) => {
          const t0 = performance.now();
          fn();
          ctx.counters.busyMs += performance.now() - t0;
        };
        const stopPolling = pollEvery(cfg.poll_seconds, () => timed(() => logger.write(feed.fromRunRecords())));
        return sinkThrough(input, {
          each: (b) =>
            timed(() => {
              logger.write(feed.fromBatch(b));
              logger.write(feed.fromRunRecords());
            }),
          end: () => {
            stopPolling();
            timed(() => logger.write(feed.fromRunRecords()));
            logger.close();
            ctx.artifacts.set(`tensorboard:${logger.root}`, { path: logger.root, records: logger.written, files: [...logger.files().values()] });
            ctx.log.info(`tensorboard: ${logger.written} scalar(s) → ${logger.root}`);
          },
          onError: () => {
            stopPolling();
            logger.close();
          },
        });
      },
    };
  },
});
