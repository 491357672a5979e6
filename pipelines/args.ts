/**
 * Command-line values that are data: `key.path=value` assignments (`--set`,
 * `--opt`, `--plot-opt`) and the small option parsers commander calls.
 *
 * An assignment's value is parsed as YAML (`3`, `true`, `[1, 2]`,
 * `{name: drpo}`; anything else stays a string). Its path is data, not code:
 * `__proto__`, `constructor` and `prototype` are refused, and an array index
 * must name an existing element, so no assignment can reach an object's
 * prototype or be silently dropped.
 */
import YAML from 'yaml';
import { ConfigError } from '../stages/core/config-schema.js';

/** Path segments that would reach an object's prototype. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

export interface Assignment {
  /** The text as given, for messages. */
  text: string;
  path: string[];
  value: unknown;
}

/** Parse an assignment's value: YAML scalars, flow lists and maps; the empty string stays "". */
export function parseValue(text: string, where = 'value'): unknown {
  if (text.trim() === '') return text;
  try {
    return YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`${where}: the value is not valid YAML: ${firstLine((e as Error).message)}`, ['value']);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Split `a.b.c=value` into its path and YAML value; `flagName` names the option in messages. */
export function parseAssignment(text: string, flagName: string): Assignment {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`${flagName} expects key=value, got ${JSON.stringify(text)}`, ['assignment']);
  const key = text.slice(0, eq);
  const path = key.split('.');
  for (const segment of path) {
    if (segment === '') throw new ConfigError(`${flagName} ${text}: empty name in the path "${key}"`, ['path']);
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new ConfigError(`${flagName} ${text}: "${segment}" is not allowed in an option path`, ['path']);
  }
  return { text, path, value: parseValue(text.slice(eq + 1), `${flagName} ${text}`) };
}

type Container = Record<string, unknown> | unknown[];

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** How a list element can be named in a path besides its index: its `id`, else its `name` when unique. */
export type ElementNames = (item: unknown) => { id?: string; name?: string };

/**
 * The element of an array named by a path segment: an index in range, or, for
 * arrays given `namesOf`, the element whose id (first) or name is the segment.
 */
function arrayIndex(list: unknown[], segment: string, a: Assignment, flagName: string, namesOf?: ElementNames): number {
  if (/^-?\d+$/.test(segment)) {
    const i = Number(segment);
    if (i < 0 || i >= list.length)
      throw new ConfigError(
        `${flagName} ${a.text}: index ${segment} is out of range (${list.length === 0 ? 'the list is empty' : `0 to ${list.length - 1}`})`,
        ['index'],
      );
    return i;
  }
  if (!namesOf) throw new ConfigError(`${flagName} ${a.text}: "${segment}" is not an index of a list`, ['index']);
  const names = list.map(namesOf);
  const byId = names.flatMap((n, i) => (n.id === segment ? [i] : []));
  if (byId.length === 1) return byId[0]!;
  const byName = names.flatMap((n, i) => (n.name === segment ? [i] : []));
  if (byId.length === 0 && byName.length === 1) return byName[0]!;
  const hits = byId.length ? byId : byName;
  if (hits.length > 1)
    throw new ConfigError(`${flagName} ${a.text}: "${segment}" names ${hits.length} stages (${hits.join(', ')}); use an index or give them ids`, ['index']);
  const known = [...new Set(names.map((n) => n.id ?? n.name).filter((n) => n !== undefined))];
  throw new ConfigError(`${flagName} ${a.text}: no stage with id "${segment}" (ids: ${known.join(', ')}; or use an index 0 to ${list.length - 1})`, ['index']);
}

/**
 * Apply one assignment onto `target`, creating missing objects on the way.
 * `namesAt(listPath)` lets a list be addressed by element id or name as well
 * as by index (the pipeline's stages: by `id`, or by stage name).
 * Returns the path with indices resolved (e.g. ["stages", "4", "with", "epochs"]).
 */
export function applyAssignment(
  target: Record<string, unknown>,
  a: Assignment,
  flagName: string,
  namesAt?: (listPath: readonly string[]) => ElementNames | undefined,
): string[] {
  let node: Container = target;
  const resolved: string[] = [];
  a.path.forEach((segment, depth) => {
    const last = depth === a.path.length - 1;
    let key: string | number = segment;
    if (Array.isArray(node)) {
      const list = node;
      key = arrayIndex(list, segment, a, flagName, namesAt?.(resolved));
    }
    resolved.push(String(key));
    const holder = node as Record<string | number, unknown>;
    if (last) {
      holder[key] = a.value;
      return;
    }
    const next = Object.hasOwn(holder, key) ? holder[key] : undefined;
    if (next === undefined || next === null) holder[key] = {};
    else if (!isContainer(next)) throw new ConfigError(`${flagName} ${a.text}: "${resolved.join('.')}" is ${JSON.stringify(next)}, not an object`, ['path']);
    node = holder[key] as Container;
  });
  return resolved;
}

/** Apply `key=value` assignments (from `--opt` and the like) onto a plain options object. */
export function applyOptionAssignments(target: Record<string, unknown>, texts: readonly string[], flagName: string): Record<string, unknown> {
  for (const t of texts) applyAssignment(target, parseAssignment(t, flagName), flagName);
  return target;
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Commander's parser for an integer option (a seed); bad values fail before anything runs. */
export function integerOption(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n)) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(value)}`, [name]);
    return n;
  };
}

/** Split "a, b,c" into ["a", "b", "c"]. */
export function commaList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
