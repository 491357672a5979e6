/**
 * `recpost evaluate --watch` (issue 13 item 7) as a user runs it: a child
 * process follows a checkpoint directory and a directory of datasets while
 * the test commits checkpoints and datasets into them, leaves half-written
 * ones beside them, signals it, and starts it again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { randomExamples, writeExamples } from '../eval/helpers.js';
import { NUM_ITEMS, openUncommittedDataset, removeTmpDirs, tmpDir, writeCheckpointAt, writeDataset, writeInterruptedCheckpoint } from './fixtures.js';
import { startWatcher, type WatchChild } from './watch-child.js';

afterAll(removeTmpDirs);

/** Records per (checkpoint, dataset) unit: 6 metrics (candidates, hr@10, hr@50, mrr, ndcg@10, ndcg@50) × 2 splits (test, valid). */
const RECORDS_PER_UNIT = 12;

/** A one-shot `recpost evaluate` in this process; its JSONL records. */
async function oneShot(args: string[]): Promise<MetricRecord[]> {
  const { main } = await import('../../pipelines/cli.js');
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await main(args)).toBe(0);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricRecord);
}

const unitOf = (r: MetricRecord) => `${r.run} seed=${r.seed}`;
const keyOf = (r: MetricRecord) => JSON.stringify([r.run, r.method, r.seed, r.step, r.epoch, r.split, r.metric]);
const hasUnit = (w: WatchChild, run: string, seed: number) => w.records().filter((r) => r.run === run && r.seed === seed).length >= RECORDS_PER_UNIT;

describe('recpost evaluate --watch', () => {
  it('evaluates each committed (checkpoint, dataset) once as they appear, never a half-written one, and resumes from its state', async () => {
    const dir = tmpDir('follow');
    const ck = path.join(dir, 'checkpoints');
    const data = path.join(dir, 'data');
    const state = path.join(dir, 'state.json');
    const out = path.join(dir, 'out');
    await writeCheckpointAt(path.join(ck, 'bc', 'step-10'), 1);
    writeDataset(path.join(data, 'day-1'), 300, 5);
    // Half-written before the start: an interrupted checkpoint write, a dataset writer that never commits, a directory without a manifest.
    await writeInterruptedCheckpoint(path.join(ck, 'bc'), 'step-15', 99);
    const neverCommitted = openUncommittedDataset(path.join(data, 'day-0'), 200, 11);
    expect(neverCommitted.staging()).toHaveLength(1);
    // Parquet written by another tool (no manifest, so no sign that it is complete): readable, but never a committed partition.
    fs.mkdirSync(path.join(data, 'foreign'));
    writeExamples(path.join(data, 'foreign', 'events.parquet'), randomExamples(100, NUM_ITEMS, 23));

    const args = ['evaluate', ck, '--data', data, '--state', state, '--watch', '--interval', '0.3', '--format', 'jsonl', '--out', out];
    const w = startWatcher(args);
    await w.waitFor('bc seed 1 on day-1', () => hasUnit(w, 'evaluate:day-1', 1));

    await writeCheckpointAt(path.join(ck, 'bc', 'step-20'), 2);
    await w.waitFor('the new checkpoint on day-1', () => hasUnit(w, 'evaluate:day-1', 2));

    writeDataset(path.join(data, 'day-2'), 200, 7);
    await w.waitFor('both checkpoints on the new dataset day-2', () => hasUnit(w, 'evaluate:day-2', 1) && hasUnit(w, 'evaluate:day-2', 2));

    // Half-written while it watches: another interrupted checkpoint and another writer in its staging directory.
    await writeInterruptedCheckpoint(path.join(ck, 'bc'), 'step-30', 98);
    const laterCommitted = openUncommittedDataset(path.join(data, 'day-3'), 160, 13);
    expect(laterCommitted.staging()).toHaveLength(1);
    writeDataset(path.join(data, 'day-4'), 120, 17);
    await w.waitFor('both checkpoints on day-4', () => hasUnit(w, 'evaluate:day-4', 1) && hasUnit(w, 'evaluate:day-4', 2));
    await new Promise((r) => setTimeout(r, 1000)); // a few more polls over the half-written ones

    w.kill('SIGTERM');
    const exit = await w.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(w.err()).toContain('watch: stopped');
    expect(w.err()).not.toMatch(/staging|did not finish|foreign/); // not even tried

    // Every committed pair exactly once: 2 checkpoints × 3 datasets, one record per key, nothing of the half-written ones.
    const records = w.records();
    const units = new Map<string, number>();
    for (const r of records) units.set(unitOf(r), (units.get(unitOf(r)) ?? 0) + 1);
    expect([...units.keys()].sort()).toEqual(
      [
        'evaluate:day-1 seed=1',
        'evaluate:day-1 seed=2',
        'evaluate:day-2 seed=1',
        'evaluate:day-2 seed=2',
        'evaluate:day-4 seed=1',
        'evaluate:day-4 seed=2',
      ].sort(),
    );
    expect([...units.values()].every((n) => n === RECORDS_PER_UNIT)).toBe(true);
    expect(new Set(records.map(keyOf)).size).toBe(records.length);

    // The records are those of a one-shot evaluation of the same checkpoints on each dataset.
    for (const day of ['day-1', 'day-2', 'day-4']) {
      const expected = await oneShot(['evaluate', ck, '--data', path.join(data, day), '--baselines', 'none', '--format', 'jsonl', '--quiet']);
      const got = records.filter((r) => r.run === `evaluate:${day}`).map((r) => ({ ...r, run: 'evaluate' }));
      expect(got.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
      for (const g of got) {
        const e = expected.find((x) => keyOf(x) === keyOf(g))!;
        expect(g.count).toBe(e.count);
        expect(Math.abs(g.value - e.value)).toBeLessThan(1e-12);
      }
    }
    // --out got the same lines as stdout.
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')).toBe(w.out());

    // The state holds one pair per (checkpoint, part file with evaluation rows), none from a temporary or staging directory.
    const saved = JSON.parse(fs.readFileSync(state, 'utf8')) as { done: { targetPath: string; partitionPath: string }[] };
    const parts = (day: string) => fs.readdirSync(path.join(data, day)).filter((f) => f.endsWith('.parquet')).length;
    expect(saved.done).toHaveLength(2 * (parts('day-1') + parts('day-2') + parts('day-4')));
    expect(saved.done.every((p) => /\/step-(10|20)$/.test(p.targetPath) && /\/data\/day-[124]\/part-\d+\.parquet$/.test(p.partitionPath))).toBe(true);
    expect(new Set(saved.done.map((p) => `${p.targetPath} ${p.partitionPath}`)).size).toBe(saved.done.length);

    // Restart: nothing already done is evaluated again; the dataset committed meanwhile (day-3) is, once per checkpoint.
    neverCommitted.abort();
    laterCommitted.commit();
    const stateBefore = new Map(saved.done.map((p) => [`${p.targetPath} ${p.partitionPath}`, JSON.stringify(p)]));
    const again = startWatcher(args);
    await again.waitFor(
      'the restarted watcher to evaluate day-3 and go idle',
      () => hasUnit(again, 'evaluate:day-3', 1) && hasUnit(again, 'evaluate:day-3', 2) && /watch: idle/.test(again.err()),
    );
    again.kill('SIGINT');
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(new Set(again.records().map((r) => r.run))).toEqual(new Set(['evaluate:day-3']));
    expect(again.records()).toHaveLength(2 * RECORDS_PER_UNIT);
    const after = JSON.parse(fs.readFileSync(state, 'utf8')) as { done: { targetPath: string; partitionPath: string }[] };
    expect(after.done).toHaveLength(saved.done.length + 2 * parts('day-3'));
    for (const p of after.done) {
      const old = stateBefore.get(`${p.targetPath} ${p.partitionPath}`);
      if (old !== undefined) expect(JSON.stringify(p)).toBe(old);
      else expect(p.partitionPath).toMatch(/\/data\/day-3\//);
    }
    expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')).toBe(w.out() + again.out());
  }, 240_000);

  it('a signal during an evaluation lets it finish, exits 0, and a restart evaluates exactly what is left', async () => {
    const dir = tmpDir('signal');
    const ck = path.join(dir, 'checkpoints');
    const data = path.join(dir, 'data');
    const state = path.join(dir, 'state.json');
    await writeCheckpointAt(path.join(ck, 'step-1'), 3);
    await writeCheckpointAt(path.join(ck, 'step-2'), 4);
    // Eight datasets of about half a second of evaluation each: the signal comes during one of them, with seconds to spare.
    const DAYS = 8;
    for (let i = 1; i <= DAYS; i++) writeDataset(path.join(data, `day-${i}`), 6000, 30 + i, 1000);
    const args = ['evaluate', ck, '--data', data, '--state', state, '--watch', '--format', 'jsonl'];

    const first = startWatcher(args);
    await first.waitFor('the first evaluated unit', () => /watch: evaluated/.test(first.err()));
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.err()).toContain('watch: SIGTERM: stopping after the evaluation in progress');
    expect(first.err()).toContain('watch: stopped');
    const firstUnits = new Set(first.records().map(unitOf));
    // It stopped before the end (two checkpoints on each dataset), with whole units only.
    expect(firstUnits.size).toBeGreaterThan(0);
    expect(firstUnits.size).toBeLessThan(2 * DAYS);
    expect(first.records()).toHaveLength(firstUnits.size * RECORDS_PER_UNIT);
    expect(() => JSON.parse(fs.readFileSync(state, 'utf8'))).not.toThrow();

    const second = startWatcher(args);
    await second.waitFor(
      'the rest',
      () => new Set([...first.records(), ...second.records()].map(unitOf)).size === 2 * DAYS && /watch: idle/.test(second.err()),
    );
    second.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const all = [...first.records(), ...second.records()];
    expect(new Set(all.map(keyOf)).size).toBe(all.length);
    expect(all).toHaveLength(2 * DAYS * RECORDS_PER_UNIT);
    for (const u of new Set(second.records().map(unitOf))) expect(firstUnits.has(u)).toBe(false);
    const saved = JSON.parse(fs.readFileSync(state, 'utf8')) as { done: unknown[] };
    expect(saved.done).toHaveLength(2 * DAYS * 6);
  }, 240_000);

  it('one dataset rewritten with more parts: only the new part files are evaluated, and the records are those of the whole new dataset (several checkpoint directories)', async () => {
    const dir = tmpDir('rewrite');
    const ckA = path.join(dir, 'a');
    const ckB = path.join(dir, 'b');
    const examples = path.join(dir, 'examples');
    const state = path.join(dir, 'state.json');
    await writeCheckpointAt(path.join(ckA, 'step-1'), 5);
    await writeCheckpointAt(path.join(ckB, 'step-1'), 6);
    // 240 rows in parts of 80; the rewrite has 400 rows whose first 240 are the same, so parts 0-2 keep their bytes.
    writeDataset(examples, 240, 41);
    // history=context: with the full history, new rows could change the exclusions of old parts' targets.
    const args = ['evaluate', ckA, ckB, '--data', examples, '--state', state, '--watch', '--interval', '0.3', '--format', 'jsonl', '--opt', 'history=context'];
    const w = startWatcher(args);
    await w.waitFor('the first version', () => w.records().length === 2 * RECORDS_PER_UNIT);
    expect(new Set(w.records().map((r) => r.seed))).toEqual(new Set([5, 6]));
    expect(new Set(w.records().map((r) => r.run))).toEqual(new Set(['evaluate']));
    const before = JSON.parse(fs.readFileSync(state, 'utf8')) as { done: unknown[] };
    expect(before.done).toHaveLength(2 * 3);

    writeDataset(examples, 400, 41);
    await w.waitFor('the rewritten dataset', () => w.records().length === 4 * RECORDS_PER_UNIT);
    w.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
    expect(w.err().match(/on \S+examples \(2 new pair\(s\), 12 record\(s\)\)/g)).toHaveLength(2);
    const after = JSON.parse(fs.readFileSync(state, 'utf8')) as { done: unknown[] };
    expect(after.done).toHaveLength(2 * 5);

    const expected = await oneShot([
      'evaluate',
      ckA,
      ckB,
      '--data',
      examples,
      '--baselines',
      'none',
      '--format',
      'jsonl',
      '--quiet',
      '--opt',
      'history=context',
    ]);
    const got = w.records().slice(2 * RECORDS_PER_UNIT);
    expect(got.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
    for (const g of got) {
      const e = expected.find((x) => keyOf(x) === keyOf(g))!;
      expect(g.count).toBe(e.count);
      expect(Math.abs(g.value - e.value)).toBeLessThan(1e-12);
    }
  }, 240_000);

  it('a second signal abandons the evaluation in progress at once (exit 143) and leaves a whole state that a restart completes', async () => {
    const dir = tmpDir('abandon');
    const ck = path.join(dir, 'checkpoints');
    const data = path.join(dir, 'data');
    const state = path.join(dir, 'state.json');
    await writeCheckpointAt(path.join(ck, 'step-1'), 8);
    const DAYS = 5;
    // Large enough that one unit takes seconds even on an idle machine: the second signal must
    // arrive while the first is still being honoured (with 6,000 rows an idle run could finish first).
    const PARTS = 30; // 30,000 rows in parts of 1,000: one evaluated pair per part
    for (let i = 1; i <= DAYS; i++) writeDataset(path.join(data, `day-${i}`), PARTS * 1000, 50 + i, 1000);
    const args = ['evaluate', ck, '--data', data, '--state', state, '--watch', '--format', 'jsonl'];

    const first = startWatcher(args);
    await first.waitFor('the first evaluated unit', () => /watch: evaluated/.test(first.err()));
    first.kill('SIGTERM');
    await first.waitFor('the first signal to be taken', () => /stopping after the evaluation in progress/.test(first.err()));
    first.kill('SIGTERM'); // (a signal sent before the first is taken would merge with it)
    expect(await first.exited).toEqual({ code: 143, signal: null });
    expect(first.err()).not.toContain('watch: stopped');
    const saved = JSON.parse(fs.readFileSync(state, 'utf8')) as { done: unknown[] };
    expect(saved.done.length).toBeLessThan(DAYS * PARTS);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const second = startWatcher(args);
    await second.waitFor('the rest', () => /watch: idle/.test(second.err()));
    second.kill('SIGINT');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect((JSON.parse(fs.readFileSync(state, 'utf8')) as { done: unknown[] }).done).toHaveLength(DAYS * PARTS);
    const all = [...first.records(), ...second.records()];
    expect(new Set(all.map(keyOf)).size).toBe(all.length);
  }, 240_000);
});
