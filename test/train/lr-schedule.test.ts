import { describe, expect, it } from 'vitest';
import { lrAt, type LrSchedule } from '../../stages/train/lr-schedule.js';

const sched = (over: Partial<LrSchedule>): LrSchedule => ({ lr: 0.1, warmupSteps: 0, decay: 'none', minLr: 0, ...over });

describe('lrAt', () => {
  it('is the base rate at every step without warmup or decay', () => {
    for (const step of [0, 1, 7, 1000, 1e9]) expect(lrAt(step, 10, sched({ lr: 3e-4 }))).toBe(3e-4);
  });

  it('warms up linearly from lr/W to lr over W steps, then holds lr', () => {
    const s = sched({ lr: 0.1, warmupSteps: 4 });
    const expected = [0.025, 0.05, 0.075, 0.1, 0.1, 0.1];
    [0, 1, 2, 3, 4, 9].forEach((t, i) => expect(lrAt(t, 10, s)).toBeCloseTo(expected[i]!, 15));
    expect(lrAt(3, 10, s)).toBe(0.1);
  });

  it('decays along a half cosine from lr to min_lr over total steps, then stays at min_lr', () => {
    const s = sched({ lr: 1, decay: 'cosine', minLr: 0.1 });
    expect(lrAt(0, 10, s)).toBe(1);
    // p = 1/2: min + (lr − min)·(1 + cos(π/2))/2 = 0.1 + 0.9/2
    expect(lrAt(5, 10, s)).toBeCloseTo(0.55, 15);
    // p = 1/4: 0.1 + 0.9·(1 + √2/2)/2
    expect(lrAt(2.5, 10, s)).toBeCloseTo(0.1 + (0.9 * (1 + Math.SQRT1_2)) / 2, 15);
    expect(lrAt(10, 10, s)).toBeCloseTo(0.1, 15);
    expect(lrAt(50, 10, s)).toBeCloseTo(0.1, 15);
  });

  it('decays linearly after the warmup, measured from the end of the warmup', () => {
    const s = sched({ lr: 1, warmupSteps: 2, decay: 'linear', minLr: 0 });
    // p = (t − 2)/(12 − 2)
    expect([0, 1, 2, 7, 12, 20].map((t) => lrAt(t, 12, s))).toEqual([0.5, 1, 1, 0.5, 0, 0]);
  });

  it('joins warmup and cosine decay without a jump, and never rises after the warmup', () => {
    const s = sched({ lr: 2e-3, warmupSteps: 5, decay: 'cosine', minLr: 1e-5 });
    const rates = Array.from({ length: 40 }, (_, t) => lrAt(t, 40, s));
    expect(rates[4]).toBe(2e-3);
    expect(rates[5]).toBe(2e-3);
    for (let t = 6; t < 40; t++) expect(rates[t]!).toBeLessThanOrEqual(rates[t - 1]!);
    expect(Math.min(...rates)).toBeGreaterThan(1e-5);
  });

  it('a run shorter than its warmup only warms up (no division by zero)', () => {
    const s = sched({ lr: 1, warmupSteps: 10, decay: 'cosine' });
    expect(lrAt(4, 3, s)).toBe(0.5);
    expect(lrAt(10, 3, s)).toBe(0);
  });
});
