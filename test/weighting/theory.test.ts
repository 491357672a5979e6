import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../pipelines/cli.js';
import { theoryReport } from '../../pipelines/commands/theory.js';
import { linearisedValueLoss, minSafeLambda, noiseBound, worstCaseValueLoss } from '../../stages/weighting/theory.js';

describe('theory helpers (paper 000, Theorem 4.4 and Eq. 15)', () => {
  // With |A| = 1 and δ = 2/e², log(2|A|/δ) = 2, so ε = σ·√4 = 2σ.
  const delta = 2 / Math.E ** 2;

  it('ε = σ√(2 log(2|A|/δ))', () => {
    expect(noiseBound(0.5, 1, delta)).toBeCloseTo(1, 14);
    expect(noiseBound(0, 100, 0.1)).toBe(0);
    expect(noiseBound(1, 3706, 0.05)).toBeCloseTo(Math.sqrt(2 * Math.log((2 * 3706) / 0.05)), 14);
  });

  it('the worst-case loss R_max(e^{2ε/λ} − 1) and the safe λ of Eq. 15 are inverse to each other', () => {
    // λ = 2ε/ln 2 → e^{ln 2} − 1 = 1 → loss = R_max.
    expect(worstCaseValueLoss(1, 2 / Math.LN2, 5)).toBeCloseTo(5, 12);
    // τ/R_max = e − 1 → log(1 + τ/R_max) = 1 → λ = 2ε.
    expect(minSafeLambda(1.5, 4 * (Math.E - 1), 4)).toBeCloseTo(3, 12);
    for (const [eps, tau, rmax] of [
      [0.3, 0.1, 5],
      [2, 1, 1],
      [0.01, 0.5, 10],
    ] as const) {
      const lam = minSafeLambda(eps, tau, rmax);
      expect(worstCaseValueLoss(eps, lam, rmax)).toBeCloseTo(tau, 10);
      expect(worstCaseValueLoss(eps, lam * 1.01, rmax)).toBeLessThan(tau);
    }
  });

  it('the linearised bound 4R_max ε/λ dominates the exact loss when λ ≥ 2ε', () => {
    for (const lam of [2, 3, 10, 100]) expect(linearisedValueLoss(1, lam, 5)).toBeGreaterThanOrEqual(worstCaseValueLoss(1, lam, 5));
  });

  it('rejects invalid arguments', () => {
    expect(() => noiseBound(1, 0, 0.1)).toThrow(/\|A\|/);
    expect(() => noiseBound(1, 10, 1)).toThrow(/δ must be in \(0, 1\)/);
    expect(() => worstCaseValueLoss(1, 0, 1)).toThrow(/λ must be/);
    expect(() => minSafeLambda(1, -1, 1)).toThrow(/τ must be/);
  });
});

describe('recpost theory', () => {
  afterEach(() => vi.restoreAllMocks());

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err += String(s);
      return true;
    });
    const code = await main(argv);
    vi.restoreAllMocks();
    return { code, out, err };
  }

  it('prints ε, the minimum safe λ and, with --lambda, the worst-case loss', async () => {
    const r = await run([
      'theory',
      '--sigma',
      '0.5',
      '--actions',
      '1',
      '--delta',
      String(2 / Math.E ** 2),
      '--tau',
      String(Math.E - 1),
      '--rmax',
      '1',
      '--lambda',
      '4',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ε = .* = 1\n/);
    expect(r.out).toMatch(/minimum safe λ .* = 2\s/);
    expect(r.out).toContain('value loss at λ = 4');
    expect(r.out).toContain(`= ${Number(Math.expm1(0.5).toPrecision(6))}`);
    expect(r.out).toContain('within τ');
  });

  it('prints JSON with --json', async () => {
    const r = await run(['theory', '--sigma=1', '--actions=10', '--delta=0.05', '--tau=0.1', '--rmax=5', '--json']);
    const j = JSON.parse(r.out);
    expect(j.epsilon).toBeCloseTo(Math.sqrt(2 * Math.log(400)), 12);
    expect(j.min_safe_lambda).toBeCloseTo((2 * j.epsilon) / Math.log1p(0.02), 10);
    expect(j.lambda).toBeUndefined();
  });

  it('names every missing or invalid flag and exits with 2', async () => {
    const r = await run(['theory', '--sigma', 'abc', '--actions', '2.5', '--delta', '0.1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--sigma must be the reward-noise scale σ (≥ 0), got "abc"');
    expect(r.err).toContain('--actions must be the number of actions |A| (an integer ≥ 1), got "2.5"');
    expect(r.err).toContain('--tau is required');
    expect(r.err).toContain('--rmax is required');
    expect(() => theoryReport({ sigma: '1', actions: '3', delta: '0.1', tau: '1', rmax: '1', lambda: '-2' })).toThrow(/--lambda must be a temperature λ > 0/);
  });
});
