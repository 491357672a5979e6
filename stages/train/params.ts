/**
 * Named model parameters: tf.Variables under stable names of our own (tfjs's
 * variable names are process-global and auto-numbered, so they cannot key a
 * checkpoint or tell two copies of a model apart).
 *
 * Initial values are drawn in JavaScript from a stream keyed by (seed, name),
 * so a model initialises to the same numbers on every backend and in any
 * creation order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hashWords, Rng, RNG_PURPOSE } from './rng.js';

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

function nameHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = hashWords(h, name.charCodeAt(i));
  return h;
}

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; std: number }
  /** Glorot/Xavier uniform for a [fanIn, fanOut] matrix: U(±√(6/(fanIn+fanOut))). */
  | { kind: 'glorot' };

export function initValues(shape: number[], init: Init, seed: number, name: string): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (init.kind === 'zeros') return out;
  if (init.kind === 'ones' || init.kind === 'constant') return out.fill(init.kind === 'ones' ? 1 : init.value);
  const rng = new Rng(seed, RNG_PURPOSE.init, nameHash(name));
  if (init.kind === 'normal') {
    for (let i = 0; i < n; i++) out[i] = rng.normal() * init.std;
    return out;
  }
  const fanIn = shape.length >= 2 ? shape[shape.length - 2]! : shape[0]!;
  const fanOut = shape[shape.length - 1]!;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * limit;
  return out;
}

export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly byVarName = new Map<string, string>();

  constructor(readonly trainable = true) {}

  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter "${name}" defined twice`);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), this.trainable));
    this.vars.set(name, v);
    this.byVarName.set(v.name, name);
    return v;
  }

  init(name: string, shape: number[], init: Init, seed: number): tf.Variable {
    return this.add(name, shape, initValues(shape, init, seed, name));
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter "${name}" (have: ${[...this.vars.keys()].join(', ')})`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  variables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Our name for a tfjs variable name (keys of tf.variableGrads results). */
  nameOf(variableName: string): string | undefined {
    return this.byVarName.get(variableName);
  }

  numParameters(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies of every value (synchronous read). */
  toArrays(): NamedArray[] {
    return [...this.vars.entries()].map(([name, v]) => ({ name, shape: [...v.shape], data: v.dataSync() as Float32Array }));
  }

  /** Assign values by name; every parameter must be present with its shape. */
  load(arrays: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, where = 'checkpoint'): void {
    for (const [name, v] of this.vars) {
      const a = arrays.get(name);
      if (!a) throw new Error(`${where}: parameter "${name}" is missing`);
      if (a.shape.length !== v.shape.length || a.shape.some((d, i) => d !== v.shape[i]))
        throw new Error(`${where}: parameter "${name}" has shape [${a.shape}], the model expects [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(a.data, a.shape, 'float32')));
    }
  }

  /** Assign the values present in `arrays` (shapes checked); returns the names not found there. */
  loadSome(arrays: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, where = 'checkpoint'): string[] {
    const missing: string[] = [];
    for (const [name, v] of this.vars) {
      const a = arrays.get(name);
      if (!a) {
        missing.push(name);
        continue;
      }
      if (a.shape.length !== v.shape.length || a.shape.some((d, i) => d !== v.shape[i]))
        throw new Error(`${where}: parameter "${name}" has shape [${a.shape}], the model expects [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(a.data, a.shape, 'float32')));
    }
    return missing;
  }

  /** A copy with its own variables (frozen unless `trainable`), e.g. a reference policy. */
  clone(trainable = false): ParamStore {
    const out = new ParamStore(trainable);
    for (const [name, v] of this.vars) {
      const c = tf.tidy(() => tf.variable(v.clone(), trainable));
      out.vars.set(name, c);
      out.byVarName.set(c.name, name);
    }
    return out;
  }

  /** Overwrite this store's values with another's (same names and shapes). */
  copyFrom(other: ParamStore): void {
    for (const [name, v] of this.vars) tf.tidy(() => v.assign(other.get(name)));
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.byVarName.clear();
  }
}
