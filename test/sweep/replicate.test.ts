import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipelineForCli } from '../../pipelines/commands/pipeline-file.js';
import { RUN_RECORD_FILE } from '../../pipelines/run-record.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { canonicalJson, completedRun, pipelineHash, recordedPipeline } from '../../pipelines/sweep/pipeline-hash.js';
import { decodeNonFinite, encodeNonFinite, replicateInput } from '../../pipelines/sweep/replicate.js';
import { sweepError } from '../../pipelines/sweep/run-sweep.js';
import type { SweepReplicateRecord } from '../../pipelines/sweep/sweep-record.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { removeTmpDirs, tmpDir } from '../cli/helpers.js';

afterAll(removeTmpDirs);

const shipped = [...fs.readdirSync('pipelines/examples').map((f) => path.join('pipelines/examples', f)), 'pipelines/default.yaml'];

describe('sweep replicates', () => {
  it('resolving a resolved pipeline gives it back unchanged, for every shipped pipeline (what a worker relies on)', async () => {
    expect(shipped.length).toBeGreaterThanOrEqual(5);
    for (const file of shipped) {
      const p = await loadPipelineForCli(file, { seed: 5, out: path.join(tmpDir('resolve'), 'out'), set: [] });
      const input = replicateInput('r', p, { pipelineFile: file, overrides: [], out: p.outDir });
      const again = resolvePipeline(decodeNonFinite(JSON.parse(JSON.stringify(input.pipeline))), file);
      expect(canonicalJson(recordedPipeline(again, p.outDir))).toBe(canonicalJson(recordedPipeline(p, p.outDir)));
      expect(pipelineHash(again, p.outDir)).toBe(input.hash);
    }
  });

  it('carries NaN and infinities through JSON', () => {
    const v = { a: [1, Number.NaN, Number.POSITIVE_INFINITY], b: { c: Number.NEGATIVE_INFINITY, d: 'x' } };
    const back = decodeNonFinite(JSON.parse(JSON.stringify(encodeNonFinite(v)))) as typeof v;
    expect(back.a[0]).toBe(1);
    expect(back.a[1]).toBeNaN();
    expect(back.a[2]).toBe(Number.POSITIVE_INFINITY);
    expect(back.b).toEqual({ c: Number.NEGATIVE_INFINITY, d: 'x' });
  });

  it('hashes canonical JSON: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('counts a replicate complete only when its run.json succeeded with the same pipeline', async () => {
    const dir = tmpDir('complete');
    const file = path.join(dir, 'p.yaml');
    fs.writeFileSync(file, 'name: p\nstages:\n  - stage: simulate_recsim\n    with: { preset: medium, num_users: 10 }\n');
    const out = path.join(dir, 'out');
    const p = await loadPipelineForCli(file, { out });
    const hash = pipelineHash(p, out);
    expect(completedRun(out, hash)).toBeUndefined();
    fs.mkdirSync(out, { recursive: true });
    const write = (status: string, pipeline = recordedPipeline(p, out)) =>
      fs.writeFileSync(path.join(out, RUN_RECORD_FILE), JSON.stringify({ format: 'recpost-run', status, pipeline }));
    write('succeeded');
    expect(completedRun(out, hash)?.status).toBe('succeeded');
    write('failed');
    expect(completedRun(out, hash)).toBeUndefined();
    write('running');
    expect(completedRun(out, hash)).toBeUndefined();
    // Another value of an option: another pipeline.
    const other = await loadPipelineForCli(file, { out, set: ['stages.0.with.num_users=11'] });
    write('succeeded', recordedPipeline(other, out));
    expect(completedRun(out, hash)).toBeUndefined();
    fs.writeFileSync(path.join(out, RUN_RECORD_FILE), '{ not json');
    expect(completedRun(out, hash)).toBeUndefined();
  });

  it('ends a sweep with exit 2 when every failure is a configuration mistake, else 1', () => {
    const failed = (name: string, exit: number): SweepReplicateRecord => ({
      name,
      dir: name,
      grid: {},
      sets: [],
      status: 'failed',
      wall_s: 0,
      exit_code: exit,
      error: `e-${name}`,
    });
    const usage = sweepError([failed('a', 2), failed('b', 2)], 5, 'out/sweep.json');
    expect(usage).toBeInstanceOf(ConfigError);
    expect(usage.message).toBe('sweep: 2 of 5 replicate(s) failed (see out/sweep.json)\nsweep: a: e-a\nsweep: b: e-b');
    const crash = sweepError([failed('a', 2), failed('c', 1)], 5, 'out/sweep.json');
    expect(crash).not.toBeInstanceOf(ConfigError);
    expect(crash.message).toBe('sweep: 2 of 5 replicate(s) failed (see out/sweep.json)\nsweep: a: e-a\nsweep: c: e-c');
  });
});
