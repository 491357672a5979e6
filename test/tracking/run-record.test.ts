import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipelines/cli.js';
import { collectSeeds, finishRunRecord, gitState, startRunRecord, type RunRecord } from '../../pipelines/run-record.js';
import type { ResolvedPipeline } from '../../pipelines/spec.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { initBackend } from '../../stages/train/backend.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import type { Batch } from '../../stages/core/batch.js';
import { REPO, runCli } from './cli-child.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-runrec-'));

function interactions(n: number): Batch {
  return {
    table: 'interactions',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, i) => 1 + (i % 7)),
      item_id: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 3) % 11)),
      timestamp: BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + i)),
      reward: Float32Array.from({ length: n }, (_, i) => (i % 5) + 1),
    },
  };
}

function copyPipeline(d: string): string {
  const src = path.join(d, 'in.parquet');
  writeParquetFile(src, [interactions(40)]);
  const file = path.join(d, 'copy.yaml');
  fs.writeFileSync(
    file,
    ['name: copy', 'seed: 1', 'stages:', `  - stage: read_parquet`, `    with: { path: ${src} }`, '  - stage: write_parquet', '    id: out', '    with: { path: "${out_dir}/copy-${seed}", rows_per_file: 1000 }', ''].join('\n'),
  );
  return file;
}

const readRecord = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord;

describe('run record (<out_dir>/run.json)', () => {
  it('records the resolved pipeline, overrides, seed, versions, git commit, host and a successful end', async () => {
    const d = tmp();
    const file = copyPipeline(d);
    const out = path.join(d, 'run');
    const before = Date.now();
    expect(await main(['run', file, '--set', 'stages.1.with.rows_per_file=7', '--seed', '5', '--out', out, '--quiet'])).toBe(0);
    const r = readRecord(out);
    expect(r.status).toBe('succeeded');
    expect(r.exit_code).toBe(0);
    expect(r.overrides).toEqual(['stages.1.with.rows_per_file=7', '--seed=5', '--out=' + out]);
    expect(r.seeds).toEqual([5]);
    expect(r.pipeline.seed).toBe(5);
    expect(r.pipeline.stages.map((s) => s.stage)).toEqual(['read_parquet', 'write_parquet']);
    // Override and variable substitution applied.
    expect(r.pipeline.stages[1]!.with.rows_per_file).toBe(7);
    expect(r.pipeline.stages[1]!.with.path).toBe(`${out}/copy-5`);
    expect(r.pipeline_file).toBe(path.resolve(file));
    // Versions read independently.
    const own = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(r.recpost).toBe(own.version);
    expect(Object.keys(r.dependencies).sort()).toEqual(Object.keys(own.dependencies).sort());
    for (const dep of ['apache-arrow', 'yaml', 'highland']) {
      expect(r.dependencies[dep]).toBe(JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', dep, 'package.json'), 'utf8')).version);
    }
    // The tests run inside the repository's work tree.
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim().length > 0;
    expect(r.git).toEqual({ commit: head, dirty });
    expect(r.host).toBe(os.hostname());
    expect(r.node).toBe(process.version);
    const started = Date.parse(r.started_at);
    const ended = Date.parse(r.ended_at!);
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(ended).toBeGreaterThanOrEqual(started);
    expect(r.wall_s).toBeGreaterThanOrEqual(0);
    expect(fs.readdirSync(out).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('records a failed run with the exit code the CLI returns and the error line', async () => {
    const d = tmp();
    const file = path.join(d, 'bad.yaml');
    fs.writeFileSync(file, `stages:\n  - stage: read_parquet\n    with: { path: ${path.join(d, 'missing.parquet')} }\n`);
    const out = path.join(d, 'run');
    const code = await main(['run', file, '--out', out, '--quiet']);
    expect(code).not.toBe(0);
    const r = readRecord(out);
    expect(r.status).toBe('failed');
    expect(r.exit_code).toBe(code);
    expect(r.error).toMatch(/no such file or directory/);
    expect(r.ended_at).toBeDefined();
  });

  it('keeps earlier runs into the same directory as previous_attempts', async () => {
    const d = tmp();
    const file = copyPipeline(d);
    const out = path.join(d, 'run');
    expect(await main(['run', file, '--out', out, '--quiet'])).toBe(0);
    const first = readRecord(out);
    expect(first.previous_attempts).toBeUndefined();
    fs.rmSync(path.join(d, 'in.parquet'));
    expect(await main(['run', file, '--out', out, '--quiet'])).not.toBe(0);
    const second = readRecord(out);
    expect(await main(['run', copyPipeline(d), '--out', out, '--quiet'])).toBe(0);
    const third = readRecord(out);
    expect(third.previous_attempts).toEqual([
      { started_at: first.started_at, ended_at: first.ended_at, status: 'succeeded', exit_code: 0, commit: first.git!.commit },
      { started_at: second.started_at, ended_at: second.ended_at, status: 'failed', exit_code: second.exit_code, commit: second.git!.commit },
    ]);
  });

  it('shows "running" between start and finish, and the backend in use at the end', async () => {
    const d = tmp();
    const p = resolvePipeline({ name: 'b', seed: 9, stages: [{ stage: 'read_parquet', with: { path: 'x.parquet' } }] });
    const h = startRunRecord(p, d, { overrides: ['a=1'] });
    expect(readRecord(d).status).toBe('running');
    expect(readRecord(d).ended_at).toBeUndefined();
    await initBackend('cpu');
    finishRunRecord(h);
    const r = readRecord(d);
    expect(r.backend).toMatch(/^cpu/);
    expect(r.overrides).toEqual(['a=1']);
    expect(r.seeds).toEqual([9]);
  });

  it('lists the pipeline seed and the stages\' own seed options once each', () => {
    const stage = (config: Record<string, unknown>) => ({ config }) as unknown as ResolvedPipeline['stages'][number];
    const p = { name: 's', outDir: 'x', seed: 1, stages: [stage({ seed: 8 }), stage({ seeds: [8, 9, 'x'] }), stage({ path: 'p' }), stage({ seed: 1 })] } as ResolvedPipeline;
    expect(collectSeeds(p)).toEqual([1, 8, 9]);
  });

  it('leaves git out outside a work tree', () => {
    const d = tmp();
    const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: d, encoding: 'utf8' });
    if (inGit.stdout.trim() === 'true') return; // the temp directory sits inside a repository on this machine
    expect(gitState(d)).toBeUndefined();
  });

  it('is written by the CLI run in a child process too', () => {
    const d = tmp();
    const file = copyPipeline(d);
    const out = path.join(d, 'child');
    const r = runCli(['run', file, '--out', out, '--quiet'], d);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rec = readRecord(out);
    expect(rec.status).toBe('succeeded');
    expect(rec.argv).toEqual(['run', file, '--out', out, '--quiet']);
    // cwd is a temp directory, not a git work tree (unless the machine's tmp is inside one).
    const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: d, encoding: 'utf8' }).stdout.trim() === 'true';
    if (!inGit) expect(rec.git).toBeUndefined();
  });
});
