/**
 * The per-row critic columns a critic-based objective reads (stages/weighting/
 * critic-request.ts): Q(s, a) of the logged action and the baseline b(s),
 * either V(s) or the mean of Q(s, a′) over m actions drawn from the current
 * policy (CRR). Q and V of the logged rows are computed once after the fit;
 * the policy-mean baseline is drawn afresh at each step.
 */
import type { CriticBaseline } from '../../weighting/critic-request.js';
import type { CatalogSampler } from '../gaussian-catalog-sampler.js';
import type { Rng } from '../rng.js';
import type { CriticData, LearnedCritic } from './critic.js';

const CHUNK = 4096;

export class CriticInputs {
  /** Q(s, a) and V(s) of every logged row. */
  readonly q: Float64Array;
  readonly v: Float64Array;

  constructor(
    readonly critic: LearnedCritic,
    data: CriticData,
    private readonly itemEmb: Float32Array,
    readonly baseline: CriticBaseline,
    readonly samples: number,
  ) {
    const d = data.dim;
    this.q = new Float64Array(data.numRows);
    this.v = new Float64Array(data.numRows);
    for (let s = 0; s < data.numRows; s += CHUNK) {
      const e = Math.min(data.numRows, s + CHUNK);
      const states = data.states.subarray(s * d, e * d);
      const actions = new Float32Array((e - s) * d);
      for (let i = s; i < e; i++) actions.set(itemEmb.subarray(data.actions[i]! * d, data.actions[i]! * d + d), (i - s) * d);
      this.q.set(critic.q(states, actions), s);
      this.v.set(critic.v(states), s);
    }
  }

  /** The critic columns of a minibatch: rows of the data, their states [rows × dim] (for the policy-mean baseline). */
  forRows(rows: Int32Array, states: Float32Array, sampler: CatalogSampler | undefined, rng: Rng): { q: Float64Array; baseline: Float64Array } {
    const q = Float64Array.from(rows, (r) => this.q[r]!);
    if (this.baseline === 'value') return { q, baseline: Float64Array.from(rows, (r) => this.v[r]!) };
    if (!sampler) throw new Error('critic baseline policy_mean needs the current policy');
    return { q, baseline: policyMeanQ(this.critic, states, sampler.sample(states, this.samples, rng), this.itemEmb, this.samples) };
  }
}

/** (1/m)·Σ_j Q(s, a′_j) per state, for items [rows × m] drawn from the policy. */
export function policyMeanQ(critic: LearnedCritic, states: Float32Array, items: Int32Array, itemEmb: Float32Array, m: number): Float64Array {
  const d = critic.dim;
  const rows = states.length / d;
  const s = new Float32Array(rows * m * d);
  const a = new Float32Array(rows * m * d);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < m; j++) {
      const k = r * m + j;
      s.set(states.subarray(r * d, r * d + d), k * d);
      const it = items[k]!;
      a.set(itemEmb.subarray(it * d, it * d + d), k * d);
    }
  const qs = critic.q(s, a);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < m; j++) sum += qs[r * m + j]!;
    out[r] = sum / m;
  }
  return out;
}
