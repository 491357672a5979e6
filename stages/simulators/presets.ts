/**
 * Simulator presets: JSON files under data/presets/ named <kind>-<name>.json
 * (recsim-medium.json, ratings-small.json, …). A preset gives every
 * generation parameter; options set on the stage override it. A preset may
 * also be given as a path to a JSON file of the same shape.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, validateConfig, type FieldSpec, type Fields } from '../core/config-schema.js';

export type SimulatorKind = 'recsim' | 'ratings';

/** data/presets of this package: searched upwards from this module (works from sources and from dist/). */
export function presetsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, 'data', 'presets');
    if (fs.existsSync(cand)) return cand;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('simulator presets: cannot find data/presets/ above stages/simulators');
}

/** Names of the presets of a kind found in data/presets. */
export function presetNames(kind: SimulatorKind): string[] {
  const prefix = `${kind}-`;
  return fs
    .readdirSync(presetsDir())
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => f.slice(prefix.length, -'.json'.length))
    .sort();
}

/** The raw values of a preset (its `description` key removed). */
export function readPreset(kind: SimulatorKind, name: string): Record<string, unknown> {
  const file = name.endsWith('.json') ? name : path.join(presetsDir(), `${kind}-${name}.json`);
  if (!fs.existsSync(file)) {
    const known = name.endsWith('.json') ? '' : ` (known ${kind} presets: ${presetNames(kind).join(', ')})`;
    throw new ConfigError(`unknown ${kind} preset "${name}": no file ${file}${known}`, ['preset']);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${kind} preset ${file}: not valid JSON: ${(e as Error).message}`, ['preset']);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${kind} preset ${file}: must be a JSON object`, ['preset']);
  const { description: _d, ...values } = json as Record<string, unknown>;
  return values;
}

/** The same fields with every one required (a merged preset + options must give them all). */
function requiredFields(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, f] of Object.entries(fields)) {
    const copy = { ...f, required: true } as FieldSpec;
    if (copy.type === 'object') (copy as { fields: Fields }).fields = requiredFields(copy.fields);
    out[k] = copy;
  }
  return out;
}

/**
 * Merge a preset with explicit options (options win; nested objects merge
 * key by key) and validate the result against `fields`, all required.
 */
export function resolvePresetParams<T>(kind: SimulatorKind, preset: string, options: Record<string, unknown>, fields: Fields, where: string): T {
  const base = readPreset(kind, preset);
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined || !(k in fields)) continue;
    const b = merged[k];
    merged[k] = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof b === 'object' && b !== null ? { ...b, ...v } : v;
  }
  return validateConfig<T>(`${where} (preset "${preset}")`, requiredFields(fields), merged);
}
