/**
 * Typed, validated reading of a model configuration stored as JSON (the
 * "model" object of checkpoint.json). Each model's codec reads its fields
 * one by one, so the result is its configuration type without a cast, and a
 * bad value is a ConfigError naming the file and the field (the CLI exits 2).
 */
import { ConfigError } from '../core/config-schema.js';

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export class ModelConfigReader {
  private readonly obj: Record<string, unknown>;

  /** `where` names the file, e.g. "checkpoint runs/a/step-3/checkpoint.json"; `prefix` the object's path in it. */
  constructor(
    json: unknown,
    private readonly where: string,
    private readonly prefix = 'model',
  ) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) this.fail(this.prefix, `must be an object, got ${describe(json)}`);
    this.obj = json as Record<string, unknown>;
  }

  private fail(field: string, problem: string): never {
    throw new ConfigError(`${this.where}: field "${field}" ${problem}`, [field]);
  }

  private value(key: string): unknown {
    return this.obj[key];
  }

  /** A finite number within the bounds given. */
  number(key: string, bounds: { min?: number; max?: number; exclusiveMin?: number; exclusiveMax?: number } = {}): number {
    const field = `${this.prefix}.${key}`;
    const v = this.value(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(field, `must be a finite number, got ${describe(v)}`);
    if (bounds.min !== undefined && v < bounds.min) this.fail(field, `must be ≥ ${bounds.min}, got ${v}`);
    if (bounds.max !== undefined && v > bounds.max) this.fail(field, `must be ≤ ${bounds.max}, got ${v}`);
    if (bounds.exclusiveMin !== undefined && !(v > bounds.exclusiveMin)) this.fail(field, `must be > ${bounds.exclusiveMin}, got ${v}`);
    if (bounds.exclusiveMax !== undefined && !(v < bounds.exclusiveMax)) this.fail(field, `must be < ${bounds.exclusiveMax}, got ${v}`);
    return v;
  }

  /** An integer ≥ min. */
  integer(key: string, min: number): number {
    const v = this.number(key, { min });
    if (!Number.isInteger(v)) this.fail(`${this.prefix}.${key}`, `must be an integer, got ${v}`);
    return v;
  }

  boolean(key: string): boolean {
    const v = this.value(key);
    if (typeof v !== 'boolean') return this.fail(`${this.prefix}.${key}`, `must be true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const v = this.value(key);
    const match = choices.find((c) => c === v);
    if (match === undefined) return this.fail(`${this.prefix}.${key}`, `must be one of ${choices.join(', ')}; got ${describe(v)}`);
    return match;
  }

  /** An array of integers, each ≥ min. */
  integers(key: string, min: number): number[] {
    const field = `${this.prefix}.${key}`;
    const v = this.value(key);
    if (!Array.isArray(v)) return this.fail(field, `must be an array, got ${describe(v)}`);
    return v.map((x: unknown, i) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < min) return this.fail(`${field}[${i}]`, `must be an integer ≥ ${min}, got ${describe(x)}`);
      return x;
    });
  }

  /** A problem that involves several fields (e.g. d must be a multiple of heads). */
  invalid(key: string, problem: string): never {
    return this.fail(`${this.prefix}.${key}`, problem);
  }
}
