/** `console_table` sink: a live table on a terminal while records arrive, and the final table once at the end. */
import { ARTIFACT } from '../core/artifacts.js';
import { defineStage } from '../core/stage.js';
import { consoleColumns, formatConsoleTable } from './console-table.js';
import { recordsField, ReportInput } from './report-input.js';
import { liveRegion } from '../core/live-region.js';

/** Distinct live-region keys for several console tables in one process. */
let liveTables = 0;

export const consoleTableStage = defineStage({
  name: 'console_table',
  role: 'sink',
  summary: 'Table of the latest value of each metric per method: redrawn live on a terminal (stderr), printed once at the end.',
  doc: [
    'Rows are methods, columns the chosen metrics (per split when a metric appears in several: `test/ndcg@10`),',
    'each cell the value at the latest (epoch, step) of the method, averaged over replicates (runs × seeds); the',
    '`n`, `epoch` and `step` columns say how many replicates and how far the method got.',
    '',
    'Live view: when stderr is a terminal (and not --quiet) the table is redrawn on stderr every `refresh_ms`',
    'while records arrive (also records that upstream stages emit before any batch reaches this stage), and',
    'erased at the end. It shares the bottom of the terminal with the progress lines; each line is cut to the',
    'terminal width, and log messages are printed above the live lines, so nothing is clipped mid-screen or left stale.',
    '',
    'Final table, printed once: with `stream: stdout` and `publish: true` (the defaults) the sink does NOT print it',
    'itself: it publishes the text as ctx.artifacts "report:table", which `recpost run` prints to stdout when the',
    'run ends (so it comes after the stage report, once). With `publish: false` the sink writes it to stdout',
    'itself. With `stream: stderr` the sink writes it to stderr and publishes only "report:console_table"',
    '(keeping stdout for other output). "report:table" is shared with `comparison_table`: the last writer (the',
    'stage later in the pipeline) wins; the text is also always under "report:console_table".',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    metrics: {
      type: 'array',
      items: { type: 'string', doc: 'metric name' },
      default: [],
      doc: 'Metrics shown as columns, in this order (empty: the evaluation and training metrics seen — ndcg@K, hr@K, mrr, reward_mse, true_reward_*, gold_gain, loss… — or, if there are none, every metric).',
    },
    splits: {
      type: 'array',
      items: { type: 'string', doc: 'split name' },
      default: [],
      doc: 'Splits shown (empty: every split except `batch`, the per-batch diagnostics).',
    },
    methods: {
      type: 'array',
      items: { type: 'string', doc: 'method name' },
      default: [],
      doc: 'Methods shown as rows, in this order (empty: all, in order of first appearance).',
    },
    decimals: { type: 'integer', min: 0, max: 12, default: 4, doc: 'Decimals of the values.' },
    stream: {
      type: 'string',
      enum: ['stdout', 'stderr'],
      default: 'stdout',
      doc: 'Where the final table goes (see the doc: stdout via the CLI when published).',
    },
    publish: {
      type: 'boolean',
      default: true,
      doc: 'With `stream: stdout`, publish the final table as ctx.artifacts "report:table" (printed by `recpost run`) instead of printing it.',
    },
    live: {
      type: 'string',
      enum: ['auto', 'always', 'never'],
      default: 'auto',
      doc: 'Live redraw on stderr: `auto` when stderr is a terminal and progress is on (not --quiet).',
    },
    refresh_ms: { type: 'integer', min: 50, default: 500, doc: 'Milliseconds between live redraws.' },
    records: recordsField,
  },
  create(cfg, ctx) {
    const opts = {
      metrics: cfg.metrics,
      splits: cfg.splits,
      methods: cfg.methods.length > 0 ? cfg.methods : undefined,
      decimals: cfg.decimals,
    };
    const source = new ReportInput(cfg.records, ctx);
    const live = cfg.live === 'always' || (cfg.live === 'auto' && ctx.progress && Boolean(process.stderr.isTTY));
    const region = liveRegion(process.stderr);
    const key = `console_table:${liveTables++}`;
    let drawnSize = -1;
    let timer: NodeJS.Timeout | undefined;
    const redraw = () => {
      source.syncRun();
      if (source.table.size === drawnSize || source.table.size === 0) return;
      drawnSize = source.table.size;
      // Nothing to show yet (only data statistics): keep the terminal for the progress lines.
      const view = source.view();
      if (consoleColumns(view, opts).length > 0) region.set(key, formatConsoleTable(view, opts));
    };
    const stop = () => {
      if (timer) clearInterval(timer);
      timer = undefined;
    };
    // The redraw starts with the run, so records upstream stages emit before any batch arrives show too.
    if (live) {
      timer = setInterval(redraw, cfg.refresh_ms);
      timer.unref();
    }
    return {
      process(b) {
        source.addBatch(b);
        return b;
      },
      finish() {
        stop();
        if (live) region.set(key, undefined);
        source.syncRun();
        const text = formatConsoleTable(source.view(), opts);
        ctx.artifacts.set(ARTIFACT.reportConsoleTable, text);
        if (cfg.stream === 'stderr') process.stderr.write(`${text}\n`);
        else if (cfg.publish) ctx.artifacts.set(ARTIFACT.reportTable, text);
        else process.stdout.write(`${text}\n`);
      },
      abort() {
        stop();
        if (live) region.set(key, undefined);
      },
    };
  },
});
