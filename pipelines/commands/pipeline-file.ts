/**
 * What `run` and `validate` both do with a pipeline file, so that `validate`
 * checks exactly what `run` checks: parse it (syntax errors at line:column),
 * apply `--set`, `--seed` and `--out`, validate every stage (errors at the
 * offending value's line:column), and check that the input paths named by
 * source stages exist and that the run directory can be written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../stages/core/config-schema.js';
import { isS3Path } from '../../stages/io/object-store/s3-url.js';
import { applyAssignment, parseAssignment, type ElementNames } from '../args.js';
import { parsePipelineDocument, type Locator, type PathSegment } from '../pipeline-document.js';
import type { ResolvedPipeline } from '../spec.js';
import { checkWritableDir, isWithin } from './paths.js';

export interface PipelineFileOptions {
  set?: string[];
  seed?: number;
  out?: string;
}

/** A stage entry's names for `--set stages.<name>.…`: its id, and its stage name. */
const stageNames: ElementNames = (item) => {
  if (typeof item !== 'object' || item === null) return {};
  const s = item as Record<string, unknown>;
  return { id: typeof s.id === 'string' ? s.id : undefined, name: typeof s.stage === 'string' ? s.stage : undefined };
};

/**
 * Apply `--set` assignments. `stages.<i>` takes an index or a stage id (a
 * stage name too, when no stage has that id and one stage has that name).
 * Returns the assigned paths.
 */
export function applyPipelineSets(raw: Record<string, unknown>, sets: readonly string[]): string[][] {
  return sets.map((text) =>
    applyAssignment(raw, parseAssignment(text, '--set'), '--set', (listPath) => (listPath.length === 1 && listPath[0] === 'stages' ? stageNames : undefined)),
  );
}

/** Values a --set replaced are not where the file says: don't point into the file for them. */
function hideOverridden(locate: Locator, overridden: string[][]): Locator {
  const covers = (p: readonly PathSegment[]) => overridden.some((o) => o.every((seg, i) => i >= p.length || String(p[i]) === seg) && p.length >= o.length);
  return (p, key) => (covers(p) ? undefined : locate(p, key));
}

/**
 * Source stages' input paths (`path`, `paths`) must exist, unless an earlier
 * stage of the same pipeline writes them (under its `output` or `path`, or
 * under the run directory). A glob is checked up to its first wildcard.
 */
function missingInputs(p: ResolvedPipeline): { index: number; field: PathSegment[]; value: string }[] {
  const produced: string[] = [p.outDir];
  const missing: { index: number; field: PathSegment[]; value: string }[] = [];
  for (const s of p.stages) {
    if (s.def.role === 'source') {
      const inputs: { field: PathSegment[]; value: string }[] = [];
      if (typeof s.config.path === 'string') inputs.push({ field: ['path'], value: s.config.path });
      if (Array.isArray(s.config.paths)) s.config.paths.forEach((v, i) => typeof v === 'string' && inputs.push({ field: ['paths', i], value: v }));
      for (const input of inputs) {
        // An object-store dataset is checked when it is read.
        if (isS3Path(input.value)) continue;
        const literal = input.value.split(/[*?[{]/)[0]!;
        const checked = literal === input.value ? literal : path.dirname(`${literal}x`);
        if (!fs.existsSync(checked) && !produced.some((dir) => isWithin(checked, dir))) missing.push({ index: s.index, ...input });
      }
    }
    for (const key of ['output', 'path']) if (typeof s.config[key] === 'string') produced.push(s.config[key] as string);
  }
  return missing;
}

/**
 * Read, override, validate and check a pipeline file as `run` would before
 * running it. The stage registry (slow to load) is imported only once the file
 * has parsed and every --set applied.
 */
export async function loadPipelineForCli(file: string, opts: PipelineFileOptions): Promise<ResolvedPipeline> {
  if (!fs.existsSync(file)) throw new ConfigError(`pipeline file not found: ${file}`, ['missing file']);
  if (fs.statSync(file).isDirectory()) throw new ConfigError(`${file} is a directory; name a pipeline file (YAML or JSON)`, ['pipeline']);
  const { raw, locate } = parsePipelineDocument(fs.readFileSync(file, 'utf8'), file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${file}: a pipeline must be an object with a "stages" list`, ['not an object']);
  const doc = raw as Record<string, unknown>;
  const overridden = applyPipelineSets(doc, opts.set ?? []);
  if (opts.seed !== undefined) doc.seed = opts.seed;
  if (opts.out !== undefined) doc.out_dir = opts.out;
  const located = hideOverridden(locate, [...overridden, ...(opts.seed !== undefined ? [['seed']] : []), ...(opts.out !== undefined ? [['out_dir']] : [])]);
  const { rebaseInputPaths, resolvePipeline } = await import('../spec.js');
  rebaseInputPaths(doc, path.dirname(file), overridden);
  const p = resolvePipeline(doc, file, located);
  const problems = missingInputs(p).map(({ index, field, value }) => {
    const loc = located(['stages', index, 'with', ...field], false);
    return `${file}${loc ? `:${loc}` : ''}: stages[${index}] (stage "${p.stages.find((s) => s.index === index)!.def.name}"): input path ${JSON.stringify(value)} does not exist`;
  });
  if (problems.length) throw new ConfigError(problems.join('\n'), problems);
  checkWritableDir(p.outDir, opts.out !== undefined ? '--out' : `${file}: out_dir`);
  return p;
}
