import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { consoleColumns, formatConsoleTable } from '../../stages/sinks/console-table.js';
import { consoleTableStage } from '../../stages/sinks/console-table-stage.js';
import { MetricTable } from '../../stages/sinks/metric-table.js';
import { formatTextTable } from '../../stages/sinks/text-table.js';
import { runWith, testSource } from './helpers.js';

const rec = (method: string, seed: number, epoch: number, step: number, split: string, metric: string, value: number) =>
  metricRecord({ run: 'r', method, seed, epoch, step, split, metric, value });

const RECORDS: MetricRecord[] = [
  rec('bc', 0, 0, 10, 'train', 'loss', 5),
  rec('bc', 0, 1, 20, 'train', 'loss', 4),
  rec('bc', 0, 1, 20, 'test', 'ndcg@10', 0.1),
  rec('bc', 1, 1, 20, 'test', 'ndcg@10', 0.2),
  rec('bc', 0, 1, 20, 'batch', 'w_max', 9),
  // epoch order beats step order: (2, 5) is later than (1, 20)
  rec('drpo', 0, 1, 20, 'train', 'loss', 3),
  rec('drpo', 0, 2, 5, 'train', 'loss', 2),
  rec('drpo', 0, 1, 20, 'valid', 'loss', 3.5),
];

const tableOf = (rs: MetricRecord[]) => {
  const t = new MetricTable();
  t.addRecords(rs);
  return t;
};

/** Parse the aligned text table back into cells (columns are separated by ≥ 2 spaces). */
const cells = (text: string) =>
  text
    .split('\n')
    .filter((_l, i) => i !== 1)
    .map((l) => l.trim().split(/ {2,}/));

describe('console table', () => {
  it('shows the latest value per method and metric, averaged over replicates, without per-batch diagnostics', () => {
    const text = formatConsoleTable(tableOf(RECORDS), { decimals: 3 });
    expect(cells(text)).toEqual([
      ['method', 'n', 'epoch', 'step', 'ndcg@10', 'train/loss', 'valid/loss'],
      ['bc', '2', '1', '20', '0.150', '4.000', '—'],
      ['drpo', '1', '2', '5', '—', '2.000', '3.500'],
    ]);
    expect(text).not.toContain('w_max');
  });

  it('leaves data statistics of the pipeline stages out of the default columns (and so out of the rows)', () => {
    const stats = [
      rec('ingest', 0, 0, 0, 'ingest', 'rows', 100056),
      rec('split_sequences', 0, 0, 0, 'test', 'examples', 294),
      rec('bc', 0, 0, 0, 'test', 'ndcg@10_std', 0.3),
    ];
    const text = formatConsoleTable(tableOf([...RECORDS, ...stats]), { decimals: 3 });
    expect(text).toBe(formatConsoleTable(tableOf(RECORDS), { decimals: 3 }));
    // with no evaluation or training metric at all, bookkeeping (row and example counts, *_std) is still not a column
    expect(formatConsoleTable(tableOf(stats), { decimals: 0 })).toBe('(no evaluation or training metrics yet; name the columns in `metrics`)');
    expect(cells(formatConsoleTable(tableOf([...stats, rec('bc', 0, 0, 0, 'test', 'hit', 0.5)]), { decimals: 1 }))[0]).toEqual([
      'method',
      'n',
      'epoch',
      'step',
      'hit',
    ]);
  });

  it('restricts columns to chosen metrics and splits, and rows to chosen methods', () => {
    const t = tableOf(RECORDS);
    expect(consoleColumns(t, { metrics: ['loss'], splits: ['train'] })).toEqual([{ split: 'train', metric: 'loss', header: 'loss' }]);
    const text = formatConsoleTable(t, { metrics: ['w_max', 'loss'], splits: ['batch', 'train'], methods: ['drpo', 'bc'], decimals: 1 });
    expect(cells(text)).toEqual([
      ['method', 'n', 'epoch', 'step', 'w_max', 'loss'],
      ['drpo', '1', '2', '5', '—', '2.0'],
      ['bc', '1', '1', '20', '9.0', '4.0'],
    ]);
    expect(formatConsoleTable(new MetricTable(), { decimals: 2 })).toBe('(no metric records yet)');
  });

  it('aligns text columns', () => {
    const t = formatTextTable(
      ['a', 'bbb'],
      [
        ['xx', '1'],
        ['y', '22'],
      ],
      ['left', 'right'],
    );
    expect(t.split('\n')).toEqual(['a   bbb', '--  ---', 'xx    1', 'y    22']);
  });
});

describe('console_table stage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('publishes the final table as report:table without printing it, and passes batches through', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const batches = [
      metricsToBatch(RECORDS.slice(0, 4)),
      { table: 'examples', numRows: 1, columns: { action: Int32Array.of(3) } },
      metricsToBatch(RECORDS.slice(4)),
    ];
    const h = await runWith(testSource(batches), [[consoleTableStage, { decimals: 3, live: 'never' }]]);
    const printed = [...out.mock.calls, ...err.mock.calls].map((c) => String(c[0]));
    vi.restoreAllMocks();
    expect(h.out).toEqual(batches);
    const table = h.result.artifacts.get('report:table') as string;
    expect(table).toBe(formatConsoleTable(tableOf(RECORDS), { decimals: 3 }));
    expect(h.result.artifacts.get('report:console_table')).toBe(table);
    expect(printed.some((p) => p.includes('ndcg@10'))).toBe(false);
  });

  it('prints to stderr (and does not claim report:table) with stream: stderr', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const h = await runWith(testSource([metricsToBatch(RECORDS)]), [[consoleTableStage, { stream: 'stderr', live: 'never', records: 'stream' }]]);
    const printed = err.mock.calls.map((c) => String(c[0])).join('');
    vi.restoreAllMocks();
    expect(printed).toContain('ndcg@10');
    expect(h.result.artifacts.has('report:table')).toBe(false);
  });

  it('prints to stdout itself with publish: false, including run records', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await runWith(testSource([], [rec('sasrec', 0, 0, 1, 'train', 'loss', 0.5)]), [[consoleTableStage, { publish: false, live: 'never' }]]);
    const printed = out.mock.calls.map((c) => String(c[0])).join('');
    vi.restoreAllMocks();
    expect(cells(printed.trimEnd())).toEqual([
      ['method', 'n', 'epoch', 'step', 'loss'],
      ['sasrec', '1', '0', '1', '0.5000'],
    ]);
  });

  it('draws live on stderr while records arrive and erases the live block at the end', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (writes.push(String(s)), true));
    const _ = (await import('highland')).default;
    // a slow source: records are emitted, then batches trickle in over ~300 ms
    const { defineStage } = await import('../../stages/core/stage.js');
    const slow = defineStage({
      name: 'slow',
      role: 'source',
      summary: 'test',
      fields: {},
      create: (_c, ctx) => ({
        source: async function* () {
          ctx.emitMetric(rec('bc', 0, 0, 1, 'train', 'loss', 1));
          await new Promise((resolve) => setTimeout(resolve, 300));
          yield metricsToBatch([rec('bc', 0, 0, 2, 'test', 'hr@10', 0.5)]);
        },
      }),
    });
    await runWith(slow, [[consoleTableStage, { live: 'always', refresh_ms: 50 }]]);
    vi.restoreAllMocks();
    const all = writes.join('');
    expect(all).toContain('loss'); // the live table showed the emitted record before any batch arrived
    expect(all.endsWith(`\x1b[J`)).toBe(true); // and was erased at the end
  });
});
