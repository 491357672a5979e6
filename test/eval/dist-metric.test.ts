/**
 * Paper 002's "Dist." (Table 1 text: "massive semantic deviation (Dist. > 3.8)"
 * for APG): how far the Gaussian policy's action vector μ(s) lies from the item
 * it decodes to, mean over contexts of ‖μ(s) − e_â‖₂ with â = argmax_i ⟨e_i, μ(s)⟩.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateJudgeStage } from '../../stages/eval/evaluate-judge-stage.js';
import { decodedDistances } from '../../stages/eval/embedding-distance.js';
import { examplesBatch, fakePolicy, removeTmpDirs, runStage, type ExampleRow } from './helpers.js';

afterAll(removeTmpDirs);

// Catalog: 0 padding, e1 = (1, 0), e2 = (0, 1), e3 = (−1, −1).
const itemEmbeddings = Float32Array.from([0, 0, 1, 0, 0, 1, -1, -1]);

describe('Dist. (paper 002)', () => {
  it('‖μ − e_â‖ with â the inner-product decoding: μ = (3, 4) → e2, √18; μ = (2, 0) → e1, 1; μ = (−1, −2) → e3, 1', () => {
    const d = decodedDistances(Float32Array.from([3, 4, 2, 0, -1, -2]), itemEmbeddings, 2);
    expect(d[0]).toBeCloseTo(Math.sqrt(18), 6);
    expect(d[1]).toBeCloseTo(1, 6);
    expect(d[2]).toBeCloseTo(1, 6);
  });

  it('evaluate_judge emits `dist` for a policy with an action vector μ(s), one observation per context', async () => {
    const rows: ExampleRow[] = [
      { user: 1, context: [1], action: 2, split: 'test' },
      { user: 2, context: [2], action: 1, split: 'test' },
    ];
    // μ(s) = (3, 4) after item 1, (2, 0) after item 2.
    const policy = Object.assign(fakePolicy(4, { method: 'apg', step: 1 }), {
      itemEmbeddings,
      meansSync: (c: { offsets: Int32Array; values: Int32Array }) =>
        Float32Array.from(Array.from({ length: c.offsets.length - 1 }, (_v, r) => (c.values[c.offsets[r]!] === 1 ? [3, 4] : [2, 0])).flat()),
    });
    const r = await runStage(evaluateJudgeStage, {}, [examplesBatch(rows)], new Map<string, unknown>([['checkpoints', [{ dir: '/v/apg', policy }]]]));
    const dist = r.metrics.find((m) => m.method === 'apg' && m.metric === 'dist' && m.split === 'test');
    expect(dist?.value).toBeCloseTo((Math.sqrt(18) + 1) / 2, 6);
    expect(dist?.count).toBe(2);
  });
});
