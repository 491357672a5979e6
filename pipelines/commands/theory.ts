/**
 * `recpost theory`: the Exp-RSFT robustness numbers of paper 000 (Theorem 4.4,
 * Eq. 13–15) for a given noise level, action count, confidence, tolerance and
 * reward bound, optionally at a given λ.
 */
import { ConfigError } from '../../stages/core/config-schema.js';
import { linearisedValueLoss, minSafeLambda, noiseBound, worstCaseValueLoss } from '../../stages/weighting/theory.js';
import type { CliCommand } from '../command.js';

const USAGE = 'theory --sigma S --actions N --delta D --tau T --rmax R [--lambda L] [--json]';

/** The flags as typed (strings), checked together so every bad one is named at once. */
export type TheoryFlags = Partial<Record<'sigma' | 'actions' | 'delta' | 'tau' | 'rmax' | 'lambda', string>>;

interface Check {
  name: 'sigma' | 'actions' | 'delta' | 'tau' | 'rmax';
  ok: (v: number) => boolean;
  what: string;
}

const CHECKS: Check[] = [
  { name: 'sigma', ok: (v) => v >= 0, what: 'the reward-noise scale σ (≥ 0)' },
  { name: 'actions', ok: (v) => Number.isInteger(v) && v >= 1, what: 'the number of actions |A| (an integer ≥ 1)' },
  { name: 'delta', ok: (v) => v > 0 && v < 1, what: 'the failure probability δ (in (0, 1))' },
  { name: 'tau', ok: (v) => v > 0, what: 'the tolerated value loss τ (> 0)' },
  { name: 'rmax', ok: (v) => v > 0, what: 'the reward bound R_max (> 0)' },
];

function numberFlag(flags: TheoryFlags, c: Check, problems: string[]): number {
  const raw = flags[c.name];
  if (raw === undefined) {
    problems.push(`--${c.name} is required: ${c.what}`);
    return NaN;
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !c.ok(v)) problems.push(`--${c.name} must be ${c.what}, got ${JSON.stringify(raw)}`);
  return v;
}

export interface TheoryReport {
  sigma: number;
  actions: number;
  delta: number;
  tau: number;
  rmax: number;
  epsilon: number;
  min_safe_lambda: number;
  lambda?: number;
  worst_case_value_loss?: number;
  /** 4·R_max·ε/λ, only where λ ≥ 2ε (Eq. 14). */
  linearised_value_loss?: number;
  within_tolerance?: boolean;
}

/** Check the flags and compute the report; throws ConfigError naming every bad flag. */
export function theoryReport(flags: TheoryFlags): TheoryReport {
  const problems: string[] = [];
  const [sigma, actions, delta, tau, rmax] = CHECKS.map((c) => numberFlag(flags, c, problems)) as [number, number, number, number, number];
  let lambda: number | undefined;
  if (flags.lambda !== undefined) {
    const raw = flags.lambda;
    lambda = Number(raw);
    if (raw.trim() === '' || !(lambda > 0) || !Number.isFinite(lambda)) problems.push(`--lambda must be a temperature λ > 0, got ${JSON.stringify(raw)}`);
  }
  if (problems.length) throw new ConfigError(`theory: ${problems.join('; ')} (usage: recpost ${USAGE})`, problems);
  const epsilon = noiseBound(sigma, actions, delta);
  const report: TheoryReport = { sigma, actions, delta, tau, rmax, epsilon, min_safe_lambda: minSafeLambda(epsilon, tau, rmax) };
  if (lambda !== undefined) {
    report.lambda = lambda;
    report.worst_case_value_loss = worstCaseValueLoss(epsilon, lambda, rmax);
    if (lambda >= 2 * epsilon) report.linearised_value_loss = linearisedValueLoss(epsilon, lambda, rmax);
    report.within_tolerance = report.worst_case_value_loss <= tau;
  }
  return report;
}

const fmt = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));

/** The human-readable form printed by `recpost theory`. */
export function formatTheoryReport(r: TheoryReport): string {
  const lines = [
    `noise bound      ε = σ·√(2·log(2|A|/δ)) = ${fmt(r.sigma)}·√(2·log(2·${r.actions}/${r.delta})) = ${fmt(r.epsilon)}`,
    `minimum safe λ   λ ≥ 2ε / log(1 + τ/R_max) = ${fmt(2 * r.epsilon)} / log(1 + ${r.tau}/${r.rmax}) = ${fmt(r.min_safe_lambda)}   (Eq. 15)`,
  ];
  if (r.lambda !== undefined) {
    lines.push(`value loss at λ = ${r.lambda}: R_max·(e^{2ε/λ} − 1) = ${fmt(r.worst_case_value_loss!)}   (Theorem 4.4, Eq. 13)`);
    lines.push(
      r.linearised_value_loss !== undefined
        ? `linearised       4·R_max·ε/λ = ${fmt(r.linearised_value_loss)}   (Eq. 14, λ ≥ 2ε)`
        : `linearised       not applicable: λ < 2ε = ${fmt(2 * r.epsilon)}`,
    );
    lines.push(`within τ = ${r.tau}: ${r.within_tolerance ? 'yes' : 'no'}`);
  }
  return lines.join('\n');
}

export const theoryCommand: CliCommand = {
  name: 'theory',
  define: (program) =>
    program
      .command('theory')
      .summary('Exp-RSFT robustness bounds: ε, worst-case value loss at λ, minimum safe λ (paper 000 Eq. 13–15)')
      .option('--sigma <s>', 'reward-noise scale σ (≥ 0)')
      .option('--actions <n>', 'number of actions |A| (an integer ≥ 1)')
      .option('--delta <d>', 'failure probability δ, in (0, 1)')
      .option('--tau <t>', 'tolerated value loss τ (> 0)')
      .option('--rmax <r>', 'reward bound R_max (> 0)')
      .option('--lambda <l>', 'temperature λ (> 0): also print the worst-case value loss at λ')
      .option('--json', 'print the numbers as JSON')
      .action(async (opts: TheoryFlags & { json?: boolean }) => {
        const r = theoryReport(opts);
        process.stdout.write(`${opts.json ? JSON.stringify(r) : formatTheoryReport(r)}\n`);
      }),
};
