/**
 * The replicates of a sweep: `--seeds 1,2,3` × every `--grid path=v1,v2,…`
 * (the cartesian product), each with a deterministic directory name such as
 * `seed-2__lambda-0.5` and the `--set` assignments that make it.
 *
 * A grid's path is what `--set` takes (a stage by id or index, then option
 * names); its values are a YAML flow list without the brackets, so
 * `lambda=0.25,0.5` and `objective={name: drpo, rho: 0.5},{name: bc}` both
 * work. Each value is applied as `--set path=<the value as typed>`, so a
 * replicate is exactly `recpost run <pipeline> --seed s --set path=value`.
 */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { ConfigError } from '../../stages/core/config-schema.js';
import { parseAssignment } from '../args.js';

/** One `--grid`: where, and the values in the order given. */
export interface GridAxis {
  /** The path as typed, e.g. `stages.drpo.with.objective.rho`. */
  path: string;
  /** Short name used in directory names and table rows (the last path segment, longer when two axes share it). */
  label: string;
  values: GridValue[];
}

export interface GridValue {
  /** The value's YAML text as typed (`0.5`, `{name: drpo}`). */
  text: string;
  value: unknown;
  /** Directory-safe form of the text. */
  slug: string;
}

export interface Replicate {
  /** Directory name under the sweep's out dir, e.g. `seed-2__lambda-0.5`. */
  name: string;
  /** Seed from --seeds (undefined: the pipeline's own, or --seed). */
  seed?: number;
  /** Grid point: one value per axis, in axis order. */
  point: { path: string; label: string; text: string; value: unknown }[];
  /** `--set` assignments of the grid point (after the sweep's own --set). */
  sets: string[];
  /** Index of the grid point (replicates of the same point share it). */
  pointIndex: number;
}

const FORMAT = '--seeds expects a comma-separated list of integers';

/** `--seeds 1,2,3` → [1, 2, 3]; no repeats. */
export function parseSeeds(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const seeds = parts.map((p) => {
    if (!/^-?\d+$/.test(p) || !Number.isSafeInteger(Number(p))) throw new ConfigError(`${FORMAT}, got ${JSON.stringify(text)}`, ['--seeds']);
    return Number(p);
  });
  const seen = new Set<number>();
  for (const s of seeds) {
    if (seen.has(s)) throw new ConfigError(`--seeds lists seed ${s} twice`, ['--seeds']);
    seen.add(s);
  }
  return seeds;
}

/** Directory-safe text: runs of other characters become one "_", at most 40 characters. */
function slugOf(text: string): string {
  const slug = text
    .replace(/[^A-Za-z0-9.+-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  return slug === '' ? 'empty' : slug;
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);

/** Parse one `--grid path=v1,v2,…` (the label is set later, once all axes are known). */
export function parseGridAxis(text: string): GridAxis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--grid expects path=v1,v2,…, got ${JSON.stringify(text)}`, ['--grid']);
  const path = text.slice(0, eq);
  const list = text.slice(eq + 1);
  // The path is checked as --set checks it (no empty or prototype segments); the message shows the --grid as typed.
  try {
    parseAssignment(`${path}=0`, '--grid');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ConfigError(e.message.replace(`--grid ${path}=0`, `--grid ${text}`), e.problems);
  }
  if (list.trim() === '') throw new ConfigError(`--grid ${text}: no values after "="`, ['--grid']);
  const doc = YAML.parseDocument(`[${list}]`);
  const items = YAML.isSeq(doc.contents) ? doc.contents.items : [];
  if (doc.errors.length > 0 || !YAML.isSeq(doc.contents)) {
    const reason = (doc.errors[0]?.message ?? 'not a list').split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`--grid ${text}: the values are not a comma-separated YAML list: ${reason}`, ['--grid']);
  }
  const values: GridValue[] = items.map((item) => {
    const value = YAML.isNode(item) || YAML.isPair(item) ? (item as { toJSON(): unknown }).toJSON() : item;
    const range = YAML.isNode(item) ? item.range : undefined;
    // Offsets are in "[list]": one to the right of the text as typed.
    const typed = range ? list.slice(range[0] - 1, range[1] - 1).trim() : '';
    const valueText = typed !== '' ? typed : JSON.stringify(value);
    return { text: valueText, value, slug: slugOf(valueText) };
  });
  if (values.length === 0) throw new ConfigError(`--grid ${text}: no values after "="`, ['--grid']);
  const seen = new Map<string, string>();
  for (const v of values) {
    const key = JSON.stringify(v.value);
    if (seen.has(key)) throw new ConfigError(`--grid ${text}: the value ${v.text} is listed twice`, ['--grid']);
    seen.set(key, v.text);
  }
  // Two values with the same slug (0.5 and "0.5", long texts) get a hash of the text each.
  const bySlug = new Map<string, number>();
  for (const v of values) bySlug.set(v.slug, (bySlug.get(v.slug) ?? 0) + 1);
  for (const v of values) if (bySlug.get(v.slug)! > 1 || v.slug.length >= 40) v.slug = `${v.slug.slice(0, 33)}-${shortHash(v.text)}`;
  return { path, label: path, values };
}

/** Labels: the last path segment, or as many trailing segments as keep the axes apart. */
function labelAxes(axes: GridAxis[]): void {
  const segments = axes.map((a) => a.path.split('.'));
  for (let i = 0; i < axes.length; i++) {
    let take = 1;
    const tail = (j: number, k: number) => segments[j]!.slice(-k).join('.');
    while (take < segments[i]!.length && axes.some((_a, j) => j !== i && tail(j, take) === tail(i, take))) take++;
    axes[i]!.label = tail(i, take);
  }
}

/** Parse every --grid; the same path twice is a mistake. */
export function parseGrid(texts: readonly string[]): GridAxis[] {
  const axes = texts.map(parseGridAxis);
  const paths = new Set<string>();
  for (const a of axes) {
    if (paths.has(a.path)) throw new ConfigError(`--grid ${a.path} is given twice; list all its values in one --grid`, ['--grid']);
    paths.add(a.path);
  }
  labelAxes(axes);
  return axes;
}

/** Every grid point (the first axis varies slowest) × every seed (innermost). */
export function replicates(seeds: readonly number[] | undefined, axes: readonly GridAxis[]): Replicate[] {
  let points: GridValue[][] = [[]];
  for (const axis of axes) points = points.flatMap((p) => axis.values.map((v) => [...p, v]));
  const out: Replicate[] = [];
  points.forEach((values, pointIndex) => {
    const point = values.map((v, i) => ({ path: axes[i]!.path, label: axes[i]!.label, text: v.text, value: v.value }));
    const gridName = values.map((v, i) => `${slugOf(axes[i]!.label)}-${v.slug}`);
    const sets = point.map((p) => `${p.path}=${p.text}`);
    for (const seed of seeds ?? [undefined]) {
      const name = [...(seed !== undefined ? [`seed-${seed}`] : []), ...gridName].join('__');
      out.push({ name, ...(seed !== undefined ? { seed } : {}), point, sets, pointIndex });
    }
  });
  return out;
}

/** How a grid point reads in table rows: `lambda=0.5, tau=2` (empty without a grid). */
export function pointLabel(point: Replicate['point']): string {
  return point.map((p) => `${p.label}=${p.text}`).join(', ');
}
