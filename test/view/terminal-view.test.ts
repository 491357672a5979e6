/**
 * The terminal view in a real pseudo-terminal: a small pipeline (simulate →
 * split → train → live console table) runs under `script` (util-linux) on a
 * 60-column terminal; the captured bytes are replayed on an emulated screen.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Screen } from './screen.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WIDTH = 60;
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

describe.skipIf(!hasScript)('terminal view in a pseudo-terminal', () => {
  it('progress counts steps with ETA and loss; live lines fit the width; nothing stale is left on screen', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-view-pty-'));
    const loader = import.meta.resolve('tsx');
    const cmd = `stty cols ${WIDTH} rows 40; exec node --import ${loader} ${path.join(ROOT, 'test', 'view', 'pty-pipeline.ts')} o`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout.slice(-2000)).toBe(0);
    const raw = r.stdout;

    // Live lines (those ending in "clear to end of line") never exceed the width less one column.
    const live = raw.split('\n').filter((l) => l.replace(/\r$/, '').endsWith('\x1b[K'));
    expect(live.length).toBeGreaterThan(3);
    for (const l of live) expect([...l.replace(ANSI, '').replace(/\r/g, '')].length).toBeLessThanOrEqual(WIDTH - 1);

    // The training progress line counts optimiser steps, with an ETA and the current loss.
    const steps = live.map((l) => l.replace(ANSI, '').replace(/\r/g, '')).filter((l) => / steps /.test(l));
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.some((l) => /\] {2}\d+\/111 steps {2}[\d.]+\/s {2}ETA \d+s {2}loss -?\d/.test(l))).toBe(true);
    expect(raw).not.toMatch(/\d rows {2}[\d.]+K? rows\/s.*epoch/);

    const screen = new Screen(WIDTH);
    screen.write(raw);
    expect(screen.unknown).toEqual([]);
    const lines = screen.lines();
    // The live table was erased at the end: no header, rule or row of it is left.
    expect(lines.filter((l) => /^method {2,}|^-{5,}|^bc_with_a_rather_long_method_label {2}/.test(l))).toEqual([]);
    // Every progress line left on screen is a finished one, whole (not overwritten, not cut by a later draw).
    const progress = lines.filter((l) => l.startsWith('['));
    expect(progress.length).toBeGreaterThanOrEqual(4);
    for (const l of progress) expect(l).toMatch(/ {2}done$/);
    expect(progress.filter((l) => l.includes('epoch 2/2'))).toHaveLength(1);
    // The log messages are all there, once each, in order.
    const logs = lines.filter((l) => /^(simulate_recsim|split_sequences|train_gaussian)\S*:/.test(l)).map((l) => l.split(':')[0]);
    expect(logs[0]).toBe('simulate_recsim');
    expect(logs).toContain('train_gaussian[bc_with_a_rather_long_method_label]');
  }, 150_000);
});
