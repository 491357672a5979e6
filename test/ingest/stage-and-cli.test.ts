import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../pipelines/cli.js';
import { runPipeline } from '../../pipelines/runner.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { getStage } from '../../stages/registry.js';
import { listTemporaryFiles } from '../../stages/ingest/output-dir.js';
import { SAMPLES, tmpDir, tuples } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the ingest stage in a pipeline', () => {
  it('is registered, emits batches downstream and publishes vocab and dataset artifacts', async () => {
    expect(getStage('ingest')?.role).toBe('source');
    const d = tmpDir('stage');
    const out = path.join(d, 'ds');
    const copy = path.join(d, 'copy');
    const p = resolvePipeline({
      name: 'ingest-test',
      stages: [
        { stage: 'ingest', with: { path: path.join(SAMPLES, 'ratings.dat'), output: out, batch_size: 5 } },
        { stage: 'write_parquet', with: { path: copy } },
      ],
    });
    const r = await runPipeline(p, { outDir: path.join(d, 'run'), logger: memoryLogger(), progress: false });
    expect(r.stages[0]!.rowsOut).toBe(12);
    expect(r.stages[0]!.batchesOut).toBe(3);
    expect(r.stages[1]!.rowsIn).toBe(12);
    expect(r.artifacts.get('vocab')).toEqual({ users: path.join(out, 'vocab', 'users.parquet'), items: path.join(out, 'vocab', 'items.parquet') });
    const ds = r.artifacts.get('dataset') as { dir: string; manifestPath: string; manifest: { rows: number }; timestampUnit: string };
    expect(ds.dir).toBe(out);
    expect(ds.manifest.rows).toBe(12);
    expect(ds.timestampUnit).toBe('s');
    expect(JSON.parse(fs.readFileSync(ds.manifestPath, 'utf8')).rows).toBe(12);
    // The downstream copy holds the same rows as the ingest's own dataset.
    const own = await readParquetAll(path.join(out, 'part-00000.parquet'));
    const downstream = await readParquetAll(copy);
    expect(downstream.flatMap(tuples)).toEqual(own.flatMap(tuples));
    const rows = r.metrics.find((m) => m.metric === 'rows' && m.method === 'ingest');
    expect(rows).toMatchObject({ run: 'ingest-test', value: 12 });
  });

  it('validates its options with messages naming the stage and field', () => {
    expect(() => resolvePipeline({ stages: [{ stage: 'ingest', with: { path: 'x', output: 'y', mode: 'lenient', batch_size: 0 } }] })).toThrow(
      /stage "ingest"\): field "mode" must be one of strict, quarantine; got "lenient"\n.*stage "ingest"\): field "batch_size" must be ≥ 1, got 0/,
    );
    expect(() => resolvePipeline({ stages: [{ stage: 'ingest', with: { path: 'x' } }] })).toThrow(/field "output" is required/);
  });
});

describe('the CLI', () => {
  it('ingests a file with `recpost stage ingest --opt path=… --opt output=…`', async () => {
    const d = tmpDir('cli');
    const out = path.join(d, 'ds');
    const code = await main([
      'stage',
      'ingest',
      '--opt',
      `path=${path.join(SAMPLES, 'ratings.csv')}`,
      '--opt',
      `output=${out}`,
      '--opt',
      'compression=zstd',
      '--out',
      path.join(d, 'run'),
      '--quiet',
    ]);
    expect(code).toBe(0);
    const batches = await readParquetAll(path.join(out, 'part-00000.parquet'));
    expect(batches.reduce((s, b) => s + b.numRows, 0)).toBe(10);
    expect(fs.existsSync(path.join(out, 'vocab', 'items.parquet'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, '_manifest.json'), 'utf8')).compression).toBe('zstd');
    expect(listTemporaryFiles(d)).toEqual([]);
  });

  it('exits with code 2 and the located error for bad input in strict mode', async () => {
    const d = tmpDir('cli');
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
    const src = path.join(SAMPLES, 'malformed.csv');
    const code = await main(['stage', 'ingest', '--opt', `path=${src}`, '--opt', `output=${path.join(d, 'ds')}`, '--out', path.join(d, 'run'), '--quiet']);
    expect(code).toBe(2);
    expect(err.join('')).toContain(`recpost: ${src}:3: field "(row)": expected 4 fields, found 3 (value: "1,11,3.5")`);
  });
});
