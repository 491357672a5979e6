/** Proxy-quality control: σ solved exactly for a target agreement, checked against the agreement metric itself. */
import { describe, expect, it } from 'vitest';
import { agreementAt, agreementPairs, solveNoiseScale } from '../../stages/eval/proxy-quality.js';
import { pairwiseAgreement } from '../../stages/eval/pairwise-agreement.js';
import { ControlledProxy, memberItemBias } from '../../stages/simulators/controlled-proxy.js';
import { Rng } from '../../stages/simulators/rng.js';

const mean = (a: Float64Array) => {
  let s = 0;
  let n = 0;
  for (const v of a) {
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  return s / n;
};

describe('agreement as a step function of σ', () => {
  // One context, items 1, 2, 3 with gold 0, 1, 3 and bias 1, 0, −1. Every pair's noise opposes
  // its gold order; they flip at t = −Δg/Δb: (1,2) at 1, (1,3) at 1.5, (2,3) at 2.
  const items = Int32Array.of(1, 2, 3);
  const gold = [0, 1, 3];
  const bias = [1, 0, -1];
  const pairs = agreementPairs(items, gold, bias, 3);

  it('has the hand-computed thresholds and agreements', () => {
    expect([...pairs.thresholds]).toEqual([1, 1.5, 2]);
    expect(pairs.always).toBe(0);
    expect(agreementAt(pairs, 0.5)).toBeCloseTo(1, 12);
    expect(agreementAt(pairs, 1.2)).toBeCloseTo(2 / 3, 12);
    expect(agreementAt(pairs, 1.7)).toBeCloseTo(1 / 3, 12);
    expect(agreementAt(pairs, 3)).toBe(0);
  });

  it('solves the step closest to the target at the midpoint of its thresholds', () => {
    expect(solveNoiseScale(pairs, 0.7)).toEqual({ sigma: 1.25, achieved: expect.closeTo(2 / 3, 12) });
    expect(solveNoiseScale(pairs, 0.3)).toEqual({ sigma: 1.75, achieved: expect.closeTo(1 / 3, 12) });
  });
});

describe('calibrated controlled proxies hit the paper’s agreement levels', () => {
  // A toy world: 200 items, gold r*(u, i) = item quality + user taste; 60 pilot contexts of 16 candidates.
  const numItems = 200;
  const rng = new Rng(5);
  const quality = Float64Array.from({ length: numItems }, () => rng.normal());
  const taste = (u: number, i: number) => 0.7 * Math.sin(u * 1.3 + i * 0.7);
  const draw = (contexts: number, k: number, r: Rng) => {
    const users = new Int32Array(contexts * k);
    const items = new Int32Array(contexts * k);
    for (let c = 0; c < contexts; c++)
      for (let j = 0; j < k; j++) {
        users[c * k + j] = c;
        items[c * k + j] = 1 + Math.floor(r.next() * (numItems - 1));
      }
    const gold = Float64Array.from(items, (it, n) => quality[it]! + taste(users[n]!, it));
    return { items, gold };
  };
  const pilot = draw(60, 16, new Rng(11));
  const heldOut = draw(400, 16, new Rng(12));
  const bias = memberItemBias(3, 0, 0.5, numItems);

  it.each([0.736, 0.857, 0.952])('target %f: the measured agreement is the solved one, within 0.005 of the target on the pilot and 0.03 held out', (target) => {
    const pairs = agreementPairs(
      pilot.items,
      pilot.gold,
      Float64Array.from(pilot.items, (it) => bias[it]!),
      16,
    );
    const { sigma, achieved } = solveNoiseScale(pairs, target);
    const proxy = new ControlledProxy({ sigma, seed: 3, members: 1, correlation: 0.5 });
    // The agreement the evaluator reports (pairwise-agreement.ts) at the solved σ.
    const measured = mean(pairwiseAgreement(pilot.items, proxy.score(0, pilot.gold, pilot.items), pilot.gold, 16));
    expect(measured).toBeCloseTo(achieved, 12);
    expect(Math.abs(achieved - target)).toBeLessThan(0.005);
    const fresh = mean(pairwiseAgreement(heldOut.items, proxy.score(0, heldOut.gold, heldOut.items), heldOut.gold, 16));
    expect(Math.abs(fresh - target)).toBeLessThan(0.03);
  });

  it('members share the bias component with correlation ρ and keep unit variance; the bias is prefix-stable', () => {
    const n = 40_000;
    const b0 = memberItemBias(9, 0, 0.5, n);
    const b1 = memberItemBias(9, 1, 0.5, n);
    let s01 = 0;
    let s00 = 0;
    for (let i = 0; i < n; i++) {
      s01 += b0[i]! * b1[i]!;
      s00 += b0[i]! * b0[i]!;
    }
    expect(s00 / n).toBeCloseTo(1, 1);
    expect(Math.abs(s01 / n - 0.5)).toBeLessThan(0.03);
    expect([...memberItemBias(9, 1, 0.5, 10)]).toEqual([...b1.subarray(0, 10)]);
  });
});
