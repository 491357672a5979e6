/**
 * Every pipeline file shipped under pipelines/ (the default pipeline and the
 * examples) must validate: parse, name only registered stages, and pass each
 * stage's option schema. Nothing is run (no simulation, no training), so the
 * test is fast; running the examples is left to `recpost run`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadPipelineFile, resolvePipeline } from '../../pipelines/spec.js';

const ROOT = 'pipelines';

/** Pipeline files (.yaml, .yml, .json) at or below `dir`, sorted. */
function pipelineFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...pipelineFiles(p));
    else if (/\.(ya?ml|json)$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

const files = pipelineFiles(ROOT);

describe('pipeline files under pipelines/', () => {
  it('finds the default pipeline and the examples', () => {
    expect(files).toContain(path.join(ROOT, 'default.yaml'));
    expect(files.filter((f) => f.startsWith(path.join(ROOT, 'examples'))).length).toBeGreaterThan(0);
  });

  it.each(files)('%s validates', (file) => {
    const viaFile = loadPipelineFile(file);
    expect(viaFile.stages.length).toBeGreaterThan(0);
    // The same result through resolvePipeline on the parsed text.
    const text = fs.readFileSync(file, 'utf8');
    const raw = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
    const p = resolvePipeline(raw, file);
    expect(p.stages.map((s) => s.def.name)).toEqual(viaFile.stages.map((s) => s.def.name));
    expect(p.stages[0]!.def.role).toBe('source');
  });
});
