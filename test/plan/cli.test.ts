import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recpost, removeTmpDirs, tmpDir } from '../cli/helpers.js';
import { partFiles, readJson, writeExamples } from './helpers.js';

afterAll(removeTmpDirs);

function pipelineFile(d: string, input: string): string {
  const f = path.join(d, 'p.yaml');
  fs.writeFileSync(
    f,
    [
      'name: cli-plan',
      'seed: 3',
      'stages:',
      `  - {stage: read_parquet, with: {path: ${JSON.stringify(input)}, table: examples}}`,
      '  - {stage: reward_stats, with: {barrier: true, rows: all}}',
      '  - {stage: exp_rsft, with: {lambda: 0.5}}',
      '  - {stage: write_parquet, with: {path: "${out_dir}/out", rows_per_file: 700}}',
      '',
    ].join('\n'),
  );
  return f;
}

// Worker processes start under tsx and import every stage: slow on a loaded machine.
describe('recpost run --workers / --shard-index and recpost merge', { timeout: 240_000 }, () => {
  it('--workers 2 gives the --workers 1 outputs and notes the engine in run.json; merge names missing shards (exit 2)', async () => {
    const d = tmpDir('plan');
    const input = path.join(d, 'examples');
    writeExamples(input, 4, 1400, 2);
    const f = pipelineFile(d, input);
    const one = await recpost(['run', f, '--workers', '1', '--out', path.join(d, 'one'), '--quiet']);
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    const two = await recpost(['run', f, '--workers', '2', '--shards', '4', '--out', path.join(d, 'two'), '--quiet']);
    expect(two.err).toBe('');
    expect(two.code).toBe(0);
    expect(partFiles(path.join(d, 'two', 'out'))).toEqual(partFiles(path.join(d, 'one', 'out')));
    expect(readJson(path.join(d, 'two', 'run.json')).engine).toEqual({ kind: 'local', workers: 2, shards: 4 });
    expect(readJson(path.join(d, 'one', 'run.json')).engine).toBeUndefined();

    const st = path.join(d, 'static');
    const shard = await recpost(['run', f, '--shard-index', '1', '--shard-count', '2', '--out', st]);
    expect(shard.code).toBe(0);
    expect(shard.err).toMatch(/^shard 1\/2 of step 0-read_parquet-[0-9a-f]{12}: 2800 rows; when all 2 are done, run `recpost merge`\n$/);
    const merge = await recpost(['merge', f, '--shard-count', '2', '--out', st]);
    expect(merge.code).toBe(2);
    expect(merge.err).toMatch(
      /^recpost: step 0-read_parquet-[0-9a-f]{12}: shard\(s\) 0 of 2 not done \(no _done\.json under .*\); run them with --shard-index I --shard-count 2, then merge again\n$/,
    );
    const bad = await recpost(['run', f, '--shard-index', '2', '--shard-count', '2', '--out', st]);
    expect([bad.code, bad.err]).toEqual([2, 'recpost: --shard-index must be an integer in [0, 1] (got 2)\n']);
  });
});
