/**
 * A proxy reward of controlled quality (paper 004 App. G regimes; SPEC S10
 * "proxy quality"): the gold reward plus structured, exploitable noise,
 *
 *   r̂_j(u, i) = r*(u, i) + σ·b_j(i),   b_j(i) = √ρ·s(i) + √(1 − ρ)·e_j(i),
 *
 * with s, e_j independent N(0, 1) per item, drawn once from the seed. The
 * noise is a bias of the item, the same for every user, so a policy can
 * exploit it: items whose bias is large look good to the proxy whatever the
 * user's taste, and moving mass onto them raises the proxy without raising
 * the gold reward (over-optimisation). σ is solved by `calibrate_proxy` so
 * that the proxy's pairwise agreement with gold on pilot contexts hits a
 * target (73.6%, 85.7%, 95.2% in the paper). Member j = 0 is the proxy
 * itself; members 1…K−1 are the other heads of an ensemble, each of the
 * same marginal quality, whose errors share the component s with
 * correlation ρ (independent errors would let an ensemble average the noise
 * away entirely, which trained reward models do not; Eisenstein et al. 2024).
 */
import * as fs from 'node:fs';
import { ConfigError } from '../core/config-schema.js';
import { writeFileAtomic } from '../io/parquet.js';
import { Rng } from './rng.js';
import type { TrueRewardOracle } from './truth.js';

export const CONTROLLED_PROXY_FORMAT = 'recpost-controlled-proxy';

/** The file `calibrate_proxy` writes: everything needed to rebuild the proxy and its ensemble. */
export interface ControlledProxySpec {
  format: typeof CONTROLLED_PROXY_FORMAT;
  version: 1;
  /** σ, the scale of the item bias. */
  sigma: number;
  seed: number;
  /** Members K of the ensemble built from the same file (member 0 is the proxy). */
  members: number;
  /** ρ, the correlation of two members' biases. */
  correlation: number;
  target_agreement: number;
  /** Member 0's agreement with gold on the pilot pairs at σ. */
  achieved_agreement: number;
  /** The agreement of the members' mean on the same pairs. */
  ensemble_mean_agreement: number;
  pilot: { split: string; contexts: number; samples: number; pairs: number; init: string };
}

const STREAM_SHARED = 0x5ad;
const STREAM_MEMBER = 0x3e3;

/** Standard normals for items 0 … n−1 of one stream (prefix-stable: the first n never depend on n). */
function normals(seed: number, n: number, ...keys: number[]): Float64Array {
  const rng = Rng.derive(seed, ...keys);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** b_j(i) = √ρ·s(i) + √(1 − ρ)·e_j(i) for items 0 … n−1 (item 0, padding, included). */
export function memberItemBias(seed: number, member: number, correlation: number, n: number): Float64Array {
  if (!(correlation >= 0 && correlation <= 1)) throw new RangeError(`controlled proxy: correlation must be in [0, 1], got ${correlation}`);
  const s = normals(seed, n, STREAM_SHARED);
  const e = normals(seed, n, STREAM_MEMBER, member);
  const a = Math.sqrt(correlation);
  const c = Math.sqrt(1 - correlation);
  return Float64Array.from(s, (v, i) => a * v + c * e[i]!);
}

/** The proxy of one member (or every member) as a function of gold rewards and items. */
export class ControlledProxy {
  private readonly biases = new Map<number, Float64Array>();

  constructor(readonly spec: Pick<ControlledProxySpec, 'sigma' | 'seed' | 'members' | 'correlation'>) {}

  /** b_j for items up to at least `maxItem` (regenerated, prefix-stable, when a larger id appears). */
  bias(member: number, maxItem: number): Float64Array {
    const cur = this.biases.get(member);
    if (cur && cur.length > maxItem) return cur;
    const b = memberItemBias(this.spec.seed, member, this.spec.correlation, Math.max(maxItem + 1, 2 * (cur?.length ?? 0)));
    this.biases.set(member, b);
    return b;
  }

  /** r̂_j = r* + σ·b_j(item) for each (gold, item). */
  score(member: number, gold: ArrayLike<number>, items: Int32Array): Float64Array {
    let max = 0;
    for (let i = 0; i < items.length; i++) if (items[i]! > max) max = items[i]!;
    const b = this.bias(member, max);
    return Float64Array.from(items, (it, i) => gold[i]! + this.spec.sigma * b[it]!);
  }

  /** Every member's r̂_j, member-major: K arrays of items.length. */
  scoreMembers(gold: ArrayLike<number>, items: Int32Array): Float64Array[] {
    return Array.from({ length: this.spec.members }, (_, j) => this.score(j, gold, items));
  }

  /** Member 0 with the gold reward of an oracle: what the policy is trained on and judged by. */
  static withOracle(spec: ControlledProxySpec, oracle: TrueRewardOracle): (users: Int32Array, items: Int32Array) => Float64Array {
    const p = new ControlledProxy(spec);
    return (users, items) => p.score(0, oracle.trueRewards(users, items), items);
  }
}

export function writeControlledProxy(file: string, spec: ControlledProxySpec): void {
  writeFileAtomic(file, JSON.stringify(spec, null, 2) + '\n');
}

/** Read and check a `calibrate_proxy` file; a missing or malformed file is the user's ConfigError naming it. */
export function readControlledProxy(file: string, field: string): ControlledProxySpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the controlled proxy (${(e as Error).message})`, [field]);
  }
  const o = raw as Partial<ControlledProxySpec>;
  if (o?.format !== CONTROLLED_PROXY_FORMAT) throw new ConfigError(`${file}: not a calibrate_proxy file (format is not "${CONTROLLED_PROXY_FORMAT}")`, [field]);
  for (const k of ['sigma', 'seed', 'members', 'correlation'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new ConfigError(`${file}: field "${k}" must be a finite number`, [field]);
  }
  if (o.sigma! < 0 || o.members! < 1 || !Number.isInteger(o.members))
    throw new ConfigError(`${file}: sigma must be ≥ 0 and members a positive integer`, [field]);
  return o as ControlledProxySpec;
}
