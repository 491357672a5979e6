/**
 * Where the relative paths of a pipeline file point, so that a file and its
 * data travel together (an example run from an installed package reads the
 * package's own samples):
 *
 * - The input files of source stages (`path`, `paths`, and a simulator
 *   `preset` given as a .json file) are read relative to the directory of the
 *   pipeline file.
 * - Everything the run writes stays relative to the current directory:
 *   `out_dir` (default runs/<name>), every output option, and an input that
 *   names what the run itself writes: a `${out_dir}/…` value, or a path under
 *   out_dir or under an earlier stage's `output`/`path` (simulate, then
 *   ingest what it wrote).
 * - Absolute paths, and values set on the command line (`--set`), are used
 *   as given.
 */
import * as path from 'node:path';
import { getStage } from '../stages/registry.js';
import { isS3Path } from '../stages/io/object-store/s3-url.js';

type Segment = string | number;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether `inner` is `outer` or below it (both relative to the same directory). */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The input-file options of one source stage entry: [option path inside `with`, value]. */
function inputOptions(options: Record<string, unknown>): [Segment[], string][] {
  const found: [Segment[], string][] = [];
  if (typeof options.path === 'string') found.push([['path'], options.path]);
  if (Array.isArray(options.paths)) options.paths.forEach((v, i) => typeof v === 'string' && found.push([['paths', i], v]));
  if (typeof options.preset === 'string' && options.preset.endsWith('.json')) found.push([['preset'], options.preset]);
  return found;
}

/**
 * Rewrite, in place, the relative input paths of a parsed pipeline document
 * so they are relative to `fileDir` (the pipeline file's directory) rather
 * than to the current directory. `given` lists the option paths set on the
 * command line (`['stages', 2, 'with', 'path']`), which are left as they are.
 * A malformed document is left for validation to report.
 */
export function rebaseInputPaths(doc: unknown, fileDir: string, given: readonly (readonly Segment[])[] = []): void {
  if (!isObject(doc) || !Array.isArray(doc.stages) || path.normalize(fileDir) === '.') return;
  const isGiven = (p: readonly Segment[]) => given.some((g) => g.length <= p.length && g.every((seg, i) => String(seg) === String(p[i])));
  const runWrites: string[] = [];
  if (typeof doc.out_dir === 'string') {
    if (!doc.out_dir.includes('${')) runWrites.push(doc.out_dir);
  } else if (typeof doc.name === 'string') runWrites.push(path.join('runs', doc.name));
  doc.stages.forEach((entry: unknown, index: number) => {
    if (!isObject(entry) || !isObject(entry.with) || typeof entry.stage !== 'string') return;
    const options = entry.with;
    const source = getStage(entry.stage)?.role === 'source';
    if (source) {
      for (const [at, value] of inputOptions(options)) {
        if (path.isAbsolute(value) || isS3Path(value) || value.startsWith('${') || isGiven(['stages', index, 'with', ...at])) continue;
        if (runWrites.some((dir) => within(value, dir))) continue;
        const rebased = path.join(fileDir, value);
        if (at.length === 1) options[at[0]!] = rebased;
        else (options[at[0]!] as unknown[])[at[1] as number] = rebased;
      }
    }
    // What this stage writes (a source's `path` is what it reads).
    for (const key of source ? ['output'] : ['output', 'path']) {
      const v = options[key];
      if (typeof v === 'string' && !v.includes('${') && !path.isAbsolute(v)) runWrites.push(v);
    }
  });
}
