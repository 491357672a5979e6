/** The live region and progress lines, replayed on an emulated terminal. */
import { describe, expect, it } from 'vitest';
import { LiveRegion } from '../../stages/core/live-region.js';
import { Progress } from '../../stages/core/progress.js';
import { Screen } from './screen.js';

function terminal(width: number) {
  const screen = new Screen(width);
  const stream = { columns: width, write: (s: string) => screen.write(s) };
  return { screen, stream };
}

describe('live region', () => {
  it('cuts live lines to the terminal width and leaves nothing stale after a shorter redraw', () => {
    const { screen, stream } = terminal(20);
    const r = new LiveRegion(stream);
    stream.write('before\n');
    r.set('t', 'a line much longer than twenty columns\nsecond line also too long for it\nthird');
    expect(screen.wraps).toBe(0);
    expect(screen.lines()).toEqual(['before', 'a line much longer…', 'second line also t…', 'third']);
    r.set('t', 'ab\ncd');
    expect(screen.lines()).toEqual(['before', 'ab', 'cd']);
    r.set('t', undefined);
    expect(screen.lines()).toEqual(['before']);
  });

  it('prints permanent lines above the live lines, which stay at the bottom', () => {
    const { screen, stream } = terminal(30);
    const r = new LiveRegion(stream);
    r.set('p', '[train] 1/10 steps');
    r.printAbove('a log message');
    r.set('p', '[train] 2/10 steps');
    r.printAbove('another one');
    expect(screen.lines()).toEqual(['a log message', 'another one', '[train] 2/10 steps']);
    expect(screen.wraps).toBe(0);
  });

  it('counts the rows a line wrapped into when the terminal got narrower since the last draw', () => {
    const { screen, stream } = terminal(40);
    const r = new LiveRegion(stream);
    stream.write('top\n');
    r.set('t', 'x'.repeat(30));
    // The terminal shrinks to 20 columns: a real terminal reflows the 30-column line onto two rows.
    const narrow = new Screen(20);
    narrow.write(`top\n${'x'.repeat(30)}\n`);
    stream.columns = 20;
    stream.write = (s: string) => narrow.write(s);
    r.set('t', 'short');
    expect(narrow.lines()).toEqual(['top', 'short']);
    void screen;
  });
});

describe('progress line', () => {
  it('counts optimiser steps as steps, with the position, rate, ETA and current loss', () => {
    const { screen, stream } = terminal(100);
    let now = 0;
    const p = new Progress('bc epoch 2/12', true, 400, { unit: 'steps', totalIsCount: true, stream, now: () => now });
    // One step every 100 ms; redraws at most every 250 ms (steps 1, 4, 7, …, 100).
    for (let i = 1; i <= 100; i++) {
      now = i * 100;
      p.advance(1, i, i === 100 ? 'loss 6.123' : 'loss 7');
    }
    // 100 of 400 steps in 10 s: 10 steps/s, 300 left → 30 s.
    expect(screen.lines()).toEqual(['[bc epoch 2/12]  100/400 steps  10.0/s  ETA 30s  loss 6.123']);
    p.finish();
    expect(screen.lines()).toEqual(['[bc epoch 2/12]  100/400 steps  10.0/s  ETA 30s  loss 6.123  done']);
  });

  it('on a narrow terminal the label is shortened in the middle so the numbers and the loss stay', () => {
    const { screen, stream } = terminal(60);
    let now = 0;
    const p = new Progress('train_gaussian[bc_with_a_long_label] epoch 1/2', true, 111, { unit: 'steps', totalIsCount: true, stream, now: () => now });
    now = 1000;
    p.advance(11, 11, 'loss -3.918');
    // 11 steps in 1 s, 100 left → 9 s; 59 columns at most.
    expect(screen.lines()).toEqual(['[trai…epoch 1/2]  11/111 steps  11.0/s  ETA 9s  loss -3.918']);
    expect(screen.wraps).toBe(0);
  });

  it('a resumed epoch counts its rate and ETA from where it resumed', () => {
    let now = 0;
    const p = new Progress('bc epoch 1/2', false, 100, { unit: 'steps', totalIsCount: true, startAt: 50, now: () => now });
    now = 5000;
    for (let i = 51; i <= 60; i++) p.advance(1, i);
    // 10 steps in 5 s since the resume: 2 steps/s, 40 left → 20 s.
    expect(p.line()).toBe('[bc epoch 1/2]  60/100 steps  2.0/s  ETA 20s');
  });

  it('rows against a total in bytes: a percentage, no "done/total"', () => {
    let now = 0;
    const p = new Progress('ingest', false, 1000, { now: () => now });
    now = 2000;
    p.advance(50_000, 250);
    expect(p.line()).toBe('[ingest]  50.0K rows  25.0K/s  25.0%  ETA 6s');
  });
});
