/**
 * The pipeline file format (YAML or JSON):
 *
 *   name: ingest-split-stats       # optional, names the run
 *   out_dir: runs/demo             # optional (default runs/<name>)
 *   seed: 7                        # optional (default 0)
 *   stages:
 *     - stage: ingest_movielens    # a registered stage name
 *       id: ingest                 # optional label used in reports
 *       with: { path: data/ratings.dat }   # the stage's options
 *
 * Relative input paths of source stages are read relative to the pipeline
 * file's directory; out_dir and everything the run writes are relative to the
 * current directory (pipelines/input-paths.ts);
 * `${out_dir}`, `${name}` and `${seed}` in string options are replaced by the
 * run's values (after the CLI's --out and --seed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, validateStageConfig, type Fields } from '../stages/core/config-schema.js';
import { checkStageTables } from './table-check.js';
import { getStage, stageNames } from '../stages/registry.js';
import type { AnyStageDefinition } from '../stages/core/stage.js';
import { parsePipelineDocument, type Locator, type PathSegment } from './pipeline-document.js';
import { rebaseInputPaths } from './input-paths.js';

export { parsePipelineDocument, type Locator, type PathSegment } from './pipeline-document.js';
export { rebaseInputPaths } from './input-paths.js';

export interface StageSpec {
  stage: string;
  id?: string;
  with?: Record<string, unknown>;
}

export interface PipelineSpec {
  name?: string;
  out_dir?: string;
  seed?: number;
  stages: StageSpec[];
}

export interface ResolvedStage {
  index: number;
  id: string;
  def: AnyStageDefinition;
  config: Record<string, unknown>;
}

export interface ResolvedPipeline {
  name: string;
  outDir: string;
  seed: number;
  stages: ResolvedStage[];
}

const topFields: Fields = {
  name: { type: 'string', doc: 'Run name.' },
  out_dir: { type: 'string', doc: 'Directory for run outputs (metrics.jsonl, report.json).' },
  seed: { type: 'integer', doc: 'Base random seed.' },
  stages: {
    type: 'array',
    required: true,
    minItems: 1,
    items: { type: 'map', values: { type: 'string', doc: '' }, doc: 'stage' },
    doc: 'The chain of stages.',
  },
};

export function parsePipelineText(text: string, source: string): unknown {
  return parsePipelineDocument(text, source).raw;
}

export function loadPipelineFile(file: string): ResolvedPipeline {
  if (!fs.existsSync(file)) throw new ConfigError(`pipeline file not found: ${file}`, ['missing file']);
  const { raw, locate } = parsePipelineDocument(fs.readFileSync(file, 'utf8'), file);
  rebaseInputPaths(raw, path.dirname(file));
  return resolvePipeline(raw, file, locate);
}

/**
 * `${out_dir}`, `${name}` and `${seed}` inside string options are replaced by
 * the run's values (after --out/--seed), so one file can be run into several
 * directories or with several seeds without its stages overwriting each other.
 * Any other `${…}` is an error.
 */
function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([^}]*)\}/g, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined)
      throw new ConfigError(
        `unknown variable \${${key}} in ${JSON.stringify(text)} (known: ${Object.keys(vars)
          .map((k) => `\${${k}}`)
          .join(', ')})`,
        ['variable'],
      );
    return v;
  });
}

function substituteAll(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return substitute(value, vars);
  if (Array.isArray(value)) return value.map((v) => substituteAll(v, vars));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteAll(v, vars)]));
  return value;
}

/** A run name becomes a directory under runs/: it must not climb out of it. */
function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\]/.test(name);
}

/** One validation problem and, where known, the value (or key) it is about. */
interface Problem {
  message: string;
  path?: PathSegment[];
  /** Point at the key rather than its value (an unknown field). */
  key?: boolean;
}

/** `a.b[0].c` (validateConfig's field names) → ["a", "b", 0, "c"]. */
function fieldPath(name: string): PathSegment[] {
  return name.split(/\.|(?=\[)/).map((seg) => (/^\[\d+\]$/.test(seg) ? Number(seg.slice(1, -1)) : seg));
}

/** Where a validateConfig problem points, read from its wording (`unknown field "x"`, `field "x" …`). */
function problemPath(problem: string, withPath: PathSegment[]): Pick<Problem, 'path' | 'key'> {
  const unknown = /^unknown field "([^"]+)"/.exec(problem);
  if (unknown) return { path: [...withPath, ...fieldPath(unknown[1]!)], key: true };
  const required = /^field "([^"]+)" is required/.exec(problem);
  if (required) return { path: [...withPath, ...fieldPath(required[1]!).slice(0, -1)] };
  const field = /^field "([^"]+)"/.exec(problem);
  if (field) return { path: [...withPath, ...fieldPath(field[1]!)] };
  return { path: withPath };
}

/**
 * Validate a parsed pipeline: every problem of every stage is reported at
 * once, one per line. With `locate` (from parsePipelineDocument) each line
 * starts with `file:line:column` of the offending value in the file.
 */
export function resolvePipeline(raw: unknown, source = 'pipeline', locate?: Locator): ResolvedPipeline {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: a pipeline must be an object with a "stages" list`, ['not an object']);
  }
  const r = raw as Record<string, unknown>;
  // Plain strings are problems without a position (e.g. checks added by other modules).
  const problems: (Problem | string)[] = [];
  const add = (message: string, path?: PathSegment[], key?: boolean) => problems.push({ message, path, key });
  for (const k of Object.keys(r)) if (!(k in topFields)) add(`unknown top-level field "${k}" (known: ${Object.keys(topFields).join(', ')})`, [k], true);
  if (r.name !== undefined && typeof r.name !== 'string') add('field "name" must be a string', ['name']);
  else if (typeof r.name === 'string' && !isPlainName(r.name))
    add(`field "name" must be a plain name (it names runs/<name>): no "/" or "\\", not "", "." or "..", got ${JSON.stringify(r.name)}`, ['name']);
  if (r.out_dir !== undefined && typeof r.out_dir !== 'string') add('field "out_dir" must be a string', ['out_dir']);
  if (r.seed !== undefined && !Number.isInteger(r.seed)) add('field "seed" must be an integer', ['seed']);
  if (!Array.isArray(r.stages) || r.stages.length === 0) add('field "stages" must be a non-empty list', r.stages === undefined ? [] : ['stages']);
  const stages: ResolvedStage[] = [];
  const ids = new Set<string>();
  const name =
    typeof r.name === 'string' && isPlainName(r.name) ? r.name : source === 'pipeline' ? 'pipeline' : path.basename(source).replace(/\.(ya?ml|json)$/, '');
  const outDir = typeof r.out_dir === 'string' ? substitute(r.out_dir, { name }) : path.join('runs', name);
  const seed = Number.isInteger(r.seed) ? (r.seed as number) : 0;
  const vars: Record<string, string> = { name, out_dir: outDir, seed: String(seed) };
  (Array.isArray(r.stages) ? r.stages : []).forEach((s: unknown, index: number) => {
    const where = `stages[${index}]`;
    const at: PathSegment[] = ['stages', index];
    if (typeof s !== 'object' || s === null || Array.isArray(s)) {
      add(`${where}: must be an object with a "stage" name`, at);
      return;
    }
    const spec = s as Record<string, unknown>;
    for (const k of Object.keys(spec))
      if (!['stage', 'id', 'with'].includes(k))
        add(`${where}: unknown key "${k}" (a stage entry has stage, id, with; options go under "with")`, [...at, k], true);
    if (typeof spec.stage !== 'string') {
      add(`${where}: field "stage" must name a stage (one of: ${stageNames().join(', ')})`, spec.stage === undefined ? at : [...at, 'stage']);
      return;
    }
    const def = getStage(spec.stage);
    if (!def) {
      add(`${where}: unknown stage "${spec.stage}" (known: ${stageNames().join(', ')})`, [...at, 'stage']);
      return;
    }
    const id = typeof spec.id === 'string' ? spec.id : def.name;
    const uniqueId = ids.has(id) ? `${id}#${index}` : id;
    ids.add(uniqueId);
    const label = `${where} (stage "${def.name}")`;
    const withPath: PathSegment[] = spec.with === undefined ? at : [...at, 'with'];
    let options: unknown;
    try {
      options = substituteAll(spec.with, vars);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      add(`${label}: ${e.message}`, withPath);
      return;
    }
    try {
      const config = validateStageConfig<Record<string, unknown>>(label, def, options);
      stages.push({ index, id: uniqueId, def, config });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (e.problems.length === 1 && e.problems[0] === 'not an object') add(e.message, withPath);
      else for (const p of e.problems) problems.push({ message: `${label}: ${p}`, ...problemPath(p, withPath) });
    }
  });
  if (stages.length > 0 && stages[0]!.def.role !== 'source' && problems.length === 0) {
    add(`stages[0] (stage "${stages[0]!.def.name}") is a ${stages[0]!.def.role}; a pipeline must start with a source stage`, ['stages', 0, 'stage']);
  }
  if (problems.length === 0) problems.push(...checkStageTables(stages));
  if (problems.length) {
    const lines = problems.map((problem) => {
      const p = typeof problem === 'string' ? { message: problem } : problem;
      const loc = p.path && locate ? locate(p.path, p.key ?? false) : undefined;
      return `${source}${loc ? `:${loc}` : ''}: ${p.message}`;
    });
    throw new ConfigError(lines.join('\n'), lines);
  }
  return { name, outDir, seed, stages };
}
