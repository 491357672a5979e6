/** `metrics_jsonl` sink: metric records appended to or written as a JSON Lines file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { metricsJsonlArtifact } from '../core/artifacts.js';
import { defineStage } from '../core/stage.js';
import { isMetricsBatch, metricColumns, recordKey, rowKey } from './metric-columns.js';
import { metricLines, metricLine } from './metric-jsonl.js';
import { metricsToBatch } from '../core/metric-batch.js';
import { recordsField } from './report-input.js';

export const metricsJsonlStage = defineStage({
  name: 'metrics_jsonl',
  role: 'sink',
  summary: 'Write metric records to a JSON Lines file (one record per line) and pass the batches on.',
  doc: [
    'Each line is one MetricRecord object (run, method, seed, step, epoch, split, metric, value, count); non-finite',
    'numbers are written as the strings "NaN", "Infinity", "-Infinity". Stream records are written as their batch',
    'arrives (one write per batch); run records (`records: run|both`) are added when the input ends.',
    '`overwrite` writes to a temporary name and renames it when the input ends, so a failed run leaves no half',
    'file; `append` adds to the file as records arrive (not atomic, but each batch is a single write).',
    'Note: the runner already writes every emitted record to <out_dir>/metrics.jsonl; do not point this sink there.',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    path: { type: 'string', required: true, doc: 'Output file (.jsonl).' },
    mode: {
      type: 'string',
      enum: ['overwrite', 'append'],
      default: 'overwrite',
      doc: '`overwrite` (atomic: temporary file renamed at the end) or `append` to an existing file.',
    },
    records: recordsField,
  },
  create(cfg, ctx) {
    const tmp = `${cfg.path}.tmp-${process.pid}`;
    let fd = -1;
    let written = 0;
    const keys = new Set<string>();
    const open = () => {
      if (fd >= 0) return;
      fs.mkdirSync(path.dirname(path.resolve(cfg.path)), { recursive: true });
      fd = cfg.mode === 'append' ? fs.openSync(cfg.path, 'a') : fs.openSync(tmp, 'w');
    };
    const write = (text: string) => {
      if (text.length === 0) return;
      open();
      fs.writeSync(fd, text);
    };
    return {
      process(b) {
        if (cfg.records === 'run' || !isMetricsBatch(b) || b.numRows === 0) return b;
        const cols = metricColumns(b);
        if (cfg.records === 'both') for (let i = 0; i < b.numRows; i++) keys.add(rowKey(cols, i));
        write(metricLines(cols));
        written += b.numRows;
        return b;
      },
      finish() {
        if (cfg.records !== 'stream') {
          const fresh = ctx.allMetrics().filter((r) => cfg.records === 'run' || !keys.has(recordKey(r)));
          if (fresh.length > 0) {
            const cols = metricColumns(metricsToBatch(fresh));
            let text = '';
            for (let i = 0; i < fresh.length; i++) text += metricLine(cols, i);
            write(text);
            written += fresh.length;
          }
        }
        open();
        fs.closeSync(fd);
        fd = -1;
        if (cfg.mode === 'overwrite') fs.renameSync(tmp, cfg.path);
        ctx.artifacts.set(metricsJsonlArtifact(cfg.path), { path: cfg.path, records: written });
        ctx.log.info(`metrics_jsonl: ${written} record(s) → ${cfg.path}`);
      },
      abort() {
        if (fd < 0) return;
        fs.closeSync(fd);
        fd = -1;
        if (cfg.mode === 'overwrite') fs.rmSync(tmp, { force: true });
      },
    };
  },
});
