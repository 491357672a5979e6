/**
 * `recpost theory`: the Exp-RSFT robustness numbers of paper 000 (Theorem 4.4,
 * Eq. 13–15) for a given noise level, action count, confidence, tolerance and
 * reward bound, optionally at a given λ.
 */
import { flag, hasFlag, type ParsedArgs } from '../../pipelines/args.js';
import type { Command } from '../../pipelines/command.js';
import { ConfigError } from '../core/config-schema.js';
import { linearisedValueLoss, minSafeLambda, noiseBound, worstCaseValueLoss } from './theory.js';

const USAGE = 'theory --sigma S --actions N --delta D --tau T --rmax R [--lambda L] [--json]';

interface Check {
  name: string;
  ok: (v: number) => boolean;
  what: string;
}

const FLAGS: Check[] = [
  { name: 'sigma', ok: (v) => v >= 0, what: 'the reward-noise scale σ (≥ 0)' },
  { name: 'actions', ok: (v) => Number.isInteger(v) && v >= 1, what: 'the number of actions |A| (an integer ≥ 1)' },
  { name: 'delta', ok: (v) => v > 0 && v < 1, what: 'the failure probability δ (in (0, 1))' },
  { name: 'tau', ok: (v) => v > 0, what: 'the tolerated value loss τ (> 0)' },
  { name: 'rmax', ok: (v) => v > 0, what: 'the reward bound R_max (> 0)' },
];

function numberFlag(args: ParsedArgs, c: Check, problems: string[]): number {
  const raw = flag(args, c.name);
  if (raw === undefined || raw === 'true') {
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

/** Parse the flags and compute the report; throws ConfigError naming every bad flag. */
export function theoryReport(args: ParsedArgs): TheoryReport {
  const problems: string[] = [];
  const [sigma, actions, delta, tau, rmax] = FLAGS.map((c) => numberFlag(args, c, problems)) as [number, number, number, number, number];
  let lambda: number | undefined;
  if (args.flags.has('lambda')) {
    const raw = flag(args, 'lambda')!;
    lambda = Number(raw);
    if (raw === 'true' || raw.trim() === '' || !(lambda > 0) || !Number.isFinite(lambda)) problems.push(`--lambda must be a temperature λ > 0, got ${JSON.stringify(raw)}`);
  }
  if (problems.length) throw new ConfigError(`theory: ${problems.join('; ')}\nusage: recpost ${USAGE}`, problems);
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

export const theoryCommand: Command = {
  name: 'theory',
  summary: 'Exp-RSFT robustness bounds: ε, worst-case value loss at λ, minimum safe λ (paper 000 Eq. 13–15)',
  usage: USAGE,
  async run(args) {
    const r = theoryReport(args);
    process.stdout.write(`${hasFlag(args, 'json') ? JSON.stringify(r) : formatTheoryReport(r)}\n`);
    return 0;
  },
};
