/** The parts of `evaluate --watch`: what counts as a committed dataset, the follow loop, the output, the option checks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { metricRecord } from '../../schemas/metric-record.js';
import { committedDatasets } from '../../stages/eval/watch-datasets.js';
import { follow } from '../../stages/eval/watch-loop.js';
import { terminalRows, WatchOutput } from '../../stages/eval/watch-output.js';
import { removeTmpDirs, tmpDir } from './fixtures.js';

afterAll(removeTmpDirs);

const touch = (file: string, text = '{}') => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

describe('committed datasets', () => {
  it('a directory of datasets: the children with a manifest, in name order; staging, swapped-out, hidden and manifest-less ones are not', () => {
    const root = tmpDir('datasets');
    for (const name of ['b', 'a', 'c.staging-123-0a1b2c3d', 'd.old-45-deadbeef', '.hidden', '_side', 'x=1']) touch(path.join(root, name, '_manifest.json'));
    touch(path.join(root, 'no-manifest', 'part-00000.parquet'));
    touch(path.join(root, 'file.parquet'));
    expect(committedDatasets(root)).toEqual([
      { dir: path.join(root, 'a'), name: 'a' },
      { dir: path.join(root, 'b'), name: 'b' },
      { dir: path.join(root, 'x=1'), name: 'x=1' },
    ]);
  });

  it('a dataset itself is the one partition; a missing root has none', () => {
    const root = tmpDir('one');
    touch(path.join(root, '_manifest.json'));
    touch(path.join(root, 'sub', '_manifest.json'));
    expect(committedDatasets(root)).toEqual([{ dir: root, name: '' }]);
    expect(committedDatasets(path.join(root, 'absent'))).toEqual([]);
  });
});

describe('follow', () => {
  it('scans at the start and on the interval, never two at once, and stops on abort after the scan in progress', async () => {
    const stop = new AbortController();
    let scans = 0;
    let running = 0;
    let overlap = false;
    const done = follow({
      paths: [],
      intervalMs: 40,
      stop: stop.signal,
      scan: async () => {
        scans++;
        if (++running > 1) overlap = true;
        await new Promise((r) => setTimeout(r, 100)); // longer than the interval
        running--;
      },
    });
    await new Promise((r) => setTimeout(r, 450));
    stop.abort();
    const atAbort = scans;
    await done;
    expect(overlap).toBe(false);
    expect(running).toBe(0);
    // About 450 ms / 100 ms per scan: a handful, not a busy loop; none starts after the abort.
    expect(scans).toBeGreaterThanOrEqual(2);
    expect(scans).toBeLessThanOrEqual(6);
    expect(scans).toBe(atAbort);
  });

  it('a change below a watched directory triggers a scan long before the interval', async () => {
    const dir = tmpDir('events');
    const stop = new AbortController();
    const times: number[] = [];
    const t0 = Date.now();
    const done = follow({ paths: [dir], intervalMs: 60_000, settleMs: 20, stop: stop.signal, scan: async () => void times.push(Date.now() - t0) });
    await vi.waitUntil(() => times.length === 1, { timeout: 5000 });
    touch(path.join(dir, 'sub', 'new-file'));
    await vi.waitUntil(() => times.length >= 2, { timeout: 5000, interval: 20 });
    stop.abort();
    await done;
    expect(times[1]!).toBeLessThan(5000);
  });

  it('a failing scan ends the loop with its error', async () => {
    const stop = new AbortController();
    await expect(follow({ paths: [], intervalMs: 1000, stop: stop.signal, scan: async () => Promise.reject(new Error('boom')) })).rejects.toThrow('boom');
  });
});

const rec = (seed: number, metric: string, value: number) =>
  metricRecord({ run: 'r', method: 'bc', seed, step: 1, epoch: 1, split: 'test', metric, value, count: 3 });

describe('watch output', () => {
  it('counts terminal rows with wrapping: a line of exactly the width is one row, one character more is two', () => {
    expect(terminalRows('x'.repeat(20), 20)).toBe(1);
    expect(terminalRows('x'.repeat(21), 20)).toBe(2);
    expect(terminalRows(`${'x'.repeat(45)}\n\nabc`, 20)).toBe(3 + 1 + 1);
  });

  it('on a terminal, redraws in place over exactly the rows drawn before', () => {
    const writes: string[] = [];
    const out = new WatchOutput({ format: 'table', columns: 20, write: (t) => writes.push(t) });
    out.status('s'.repeat(45)); // 3 rows at 20 columns
    expect(writes[0]).toBe(`${'s'.repeat(45)}\n`);
    out.status('short');
    expect(writes[1]).toBe('\x1b[3A\r\x1b[J' + 'short\n');
    out.add([rec(1, 'mrr', 0.5)]);
    // Header, rule, one row (all wider than 20 columns, so they wrap) and the status line under them.
    const drawn = writes[2]!;
    expect(drawn.startsWith('\x1b[1A\r\x1b[J')).toBe(true);
    const lines = drawn.slice('\x1b[1A\r\x1b[J'.length, -1).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('short');
    const rows = lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.length / 20)), 0);
    out.status('next');
    expect(writes[3]!.startsWith(`\x1b[${rows}A\r\x1b[J`)).toBe(true);
    expect(writes[3]).toContain('mrr');
  });

  it('on a terminal, a table without a status line has no blank line under it, and the width is asked at each drawing', () => {
    const writes: string[] = [];
    let width = 200;
    const out = new WatchOutput({ format: 'table', columns: () => width, write: (t) => writes.push(t) });
    out.add([rec(1, 'mrr', 0.5)]);
    expect(writes[0]!.endsWith('\n\n')).toBe(false);
    expect(writes[0]!.split('\n')).toHaveLength(4); // header, rule, one row, and the final newline
    width = 10; // resized after the first drawing: the 3 lines (all under 200 columns) took 3 rows
    out.add([rec(2, 'mrr', 0.25)]);
    expect(writes[1]!.startsWith('\x1b[3A\r\x1b[J')).toBe(true);
    const lines = writes[1]!.slice('\x1b[3A\r\x1b[J'.length, -1).split('\n');
    out.add([rec(3, 'mrr', 0.125)]);
    expect(writes[2]!.startsWith(`\x1b[${lines.reduce((n, l) => n + Math.ceil(l.length / 10), 0)}A`)).toBe(true);
  });

  it('elsewhere: jsonl lines or a table per unit on stdout, statuses to their stream, every record appended to the metrics file', () => {
    const dir = tmpDir('output');
    const file = path.join(dir, 'out', 'metrics.jsonl');
    const writes: string[] = [];
    const statuses: string[] = [];
    const jsonl = new WatchOutput({ format: 'jsonl', write: (t) => writes.push(t), metricsFile: file, status: (l) => statuses.push(l) });
    jsonl.add([rec(1, 'mrr', 0.25), rec(1, 'hr@10', 0.5)]);
    jsonl.add([]);
    jsonl.add([rec(2, 'mrr', Number.NaN)]);
    jsonl.status('hello');
    expect(
      writes
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seed: number; value: unknown }),
    ).toEqual([
      expect.objectContaining({ seed: 1, metric: 'mrr', value: 0.25 }),
      expect.objectContaining({ seed: 1, metric: 'hr@10', value: 0.5 }),
      expect.objectContaining({ seed: 2, metric: 'mrr', value: 'NaN' }),
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe(writes.join(''));
    expect(statuses).toEqual(['hello']);

    const tableWrites: string[] = [];
    const table = new WatchOutput({ format: 'table', write: (t) => tableWrites.push(t) });
    table.add([rec(1, 'mrr', 0.25)]);
    table.add([rec(2, 'mrr', 0.75)]);
    expect(tableWrites).toHaveLength(2);
    expect(tableWrites[1]).not.toContain('\x1b[');
    expect(tableWrites[1]).toMatch(/^method +seed +step +epoch +split +mrr +n\n/);
    expect(tableWrites[1]).toMatch(/\nbc +2 +1 +1 +test +0\.7500 +3\n\n$/);
  });
});

describe('evaluate --watch option checks', () => {
  async function cli(args: string[]): Promise<{ code: number; err: string }> {
    const { main } = await import('../../pipelines/cli.js');
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      return { code: await main(args), err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }
  const dir = tmpDir('options');
  const ck = path.join(dir, 'ck');
  const data = path.join(dir, 'data');
  fs.mkdirSync(ck);
  fs.mkdirSync(data);
  const state = path.join(dir, 'state.json');

  it.each([
    [['--watch'], 'recpost: evaluate: --watch needs --state FILE (the evaluation state is what keeps a watch from evaluating anything twice)'],
    [
      ['--watch', '--state', state, '--baselines', 'popularity'],
      'recpost: evaluate: --watch evaluates checkpoints only (baselines are recomputed on every run); drop --baselines or use --baselines none',
    ],
    [['--watch', '--state', state, '--interval', '0'], 'recpost: evaluate: --interval must be a positive number of seconds, got "0"'],
    [['--watch', '--state', state, '--interval', 'soon'], 'recpost: evaluate: --interval must be a positive number of seconds, got "soon"'],
    [['--interval', '5'], 'recpost: evaluate: --interval needs --watch'],
  ])('%j exits 2 saying so', async (extra, message) => {
    const r = await cli(['evaluate', ck, '--data', data, ...extra]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${message}\n`);
  });

  it('a data file and a missing checkpoint directory are refused', async () => {
    touch(path.join(dir, 'one.parquet'));
    const file = await cli(['evaluate', ck, '--data', path.join(dir, 'one.parquet'), '--state', state, '--watch']);
    expect(file).toEqual({ code: 2, err: `recpost: evaluate: --watch follows a directory: --data ${path.join(dir, 'one.parquet')} is a file\n` });
    const missing = await cli(['evaluate', path.join(dir, 'nope'), '--data', data, '--state', state, '--watch']);
    expect(missing).toEqual({ code: 2, err: `recpost: no such checkpoint or directory: ${path.join(dir, 'nope')}\n` });
    expect(fs.existsSync(state)).toBe(false);
  });
});
