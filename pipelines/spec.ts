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
 * Relative paths inside `with` are resolved against the current directory;
 * `${out_dir}`, `${name}` and `${seed}` in string options are replaced by the
 * run's values (after the CLI's --out and --seed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { ConfigError, validateStageConfig, type Fields } from '../stages/core/config-schema.js';
import { checkStageTables } from './table-check.js';
import { getStage, stageNames } from '../stages/registry.js';
import type { StageDefinition } from '../stages/core/stage.js';

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
  def: StageDefinition<any>;
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
  stages: { type: 'array', required: true, minItems: 1, items: { type: 'map', values: { type: 'string', doc: '' }, doc: 'stage' }, doc: 'The chain of stages.' },
};

export function parsePipelineText(text: string, source: string): unknown {
  try {
    return source.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, ['parse']);
  }
}

export function loadPipelineFile(file: string): ResolvedPipeline {
  if (!fs.existsSync(file)) throw new ConfigError(`pipeline file not found: ${file}`, ['missing file']);
  return resolvePipeline(parsePipelineText(fs.readFileSync(file, 'utf8'), file), file);
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
    if (v === undefined) throw new ConfigError(`unknown variable \${${key}} in ${JSON.stringify(text)} (known: ${Object.keys(vars).map((k) => `\${${k}}`).join(', ')})`, ['variable']);
    return v;
  });
}

function substituteAll(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return substitute(value, vars);
  if (Array.isArray(value)) return value.map((v) => substituteAll(v, vars));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteAll(v, vars)]));
  return value;
}

/** Validate a parsed pipeline: every problem of every stage is reported at once. */
export function resolvePipeline(raw: unknown, source = 'pipeline'): ResolvedPipeline {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: a pipeline must be an object with a "stages" list`, ['not an object']);
  }
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(r)) if (!(k in topFields)) problems.push(`${source}: unknown top-level field "${k}" (known: ${Object.keys(topFields).join(', ')})`);
  if (r.name !== undefined && typeof r.name !== 'string') problems.push(`${source}: field "name" must be a string`);
  if (r.out_dir !== undefined && typeof r.out_dir !== 'string') problems.push(`${source}: field "out_dir" must be a string`);
  if (r.seed !== undefined && !Number.isInteger(r.seed)) problems.push(`${source}: field "seed" must be an integer`);
  if (!Array.isArray(r.stages) || r.stages.length === 0) problems.push(`${source}: field "stages" must be a non-empty list`);
  const stages: ResolvedStage[] = [];
  const ids = new Set<string>();
  const name = typeof r.name === 'string' ? r.name : source === 'pipeline' ? 'pipeline' : path.basename(source).replace(/\.(ya?ml|json)$/, '');
  const outDir = typeof r.out_dir === 'string' ? substitute(r.out_dir, { name }) : path.join('runs', name);
  const seed = Number.isInteger(r.seed) ? (r.seed as number) : 0;
  const vars: Record<string, string> = { name, out_dir: outDir, seed: String(seed) };
  (Array.isArray(r.stages) ? r.stages : []).forEach((s: unknown, index: number) => {
    const where = `${source}: stages[${index}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) {
      problems.push(`${where}: must be an object with a "stage" name`);
      return;
    }
    const spec = s as Record<string, unknown>;
    for (const k of Object.keys(spec)) if (!['stage', 'id', 'with'].includes(k)) problems.push(`${where}: unknown key "${k}" (a stage entry has stage, id, with; options go under "with")`);
    if (typeof spec.stage !== 'string') {
      problems.push(`${where}: field "stage" must name a stage (one of: ${stageNames().join(', ')})`);
      return;
    }
    const def = getStage(spec.stage);
    if (!def) {
      problems.push(`${where}: unknown stage "${spec.stage}" (known: ${stageNames().join(', ')})`);
      return;
    }
    const id = typeof spec.id === 'string' ? spec.id : def.name;
    const uniqueId = ids.has(id) ? `${id}#${index}` : id;
    ids.add(uniqueId);
    let options: unknown;
    try {
      options = substituteAll(spec.with, vars);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(`${where} (stage "${def.name}"): ${e.message}`);
      return;
    }
    try {
      const config = validateStageConfig<Record<string, unknown>>(`${where} (stage "${def.name}")`, def, options);
      stages.push({ index, id: uniqueId, def, config });
    } catch (e) {
      if (e instanceof ConfigError) problems.push(e.message);
      else throw e;
    }
  });
  if (stages.length > 0 && stages[0]!.def.role !== 'source' && problems.length === 0) {
    problems.push(`${source}: stages[0] (stage "${stages[0]!.def.name}") is a ${stages[0]!.def.role}; a pipeline must start with a source stage`);
  }
  if (problems.length === 0) problems.push(...checkStageTables(stages).map((p) => `${source}: ${p}`));
  if (problems.length) throw new ConfigError(problems.join('\n'), problems);
  return { name, outDir, seed, stages };
}
