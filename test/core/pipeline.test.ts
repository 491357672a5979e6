import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePipeline, loadPipelineFile } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { main } from '../../pipelines/cli.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { writeParquetFile, readParquetAll } from '../../stages/io/parquet.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-core-'));

function interactions(n: number, offset = 0): Batch {
  return {
    table: 'interactions',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, i) => 1 + ((i + offset) % 7)),
      item_id: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 3 + offset) % 11)),
      timestamp: BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + i + offset)),
      reward: Float32Array.from({ length: n }, (_, i) => ((i + offset) % 5) + 1),
    },
  };
}

describe('pipeline files', () => {
  it('collects every problem, naming stage index, stage and field', () => {
    try {
      resolvePipeline(
        {
          stages: [
            { stage: 'read_parquet', with: { path: 42 } },
            { stage: 'write_parquet', with: { path: 'x', compression: 'brotli' } },
            { stage: 'no_such_stage' },
            { stage: 'write_parquet', path: 'x' },
          ],
        },
        'p.yaml',
      );
      expect.unreachable();
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain('p.yaml: stages[0] (stage "read_parquet"): field "path" must be a string, got 42');
      expect(m).toContain('p.yaml: stages[1] (stage "write_parquet"): field "compression" must be one of');
      expect(m).toContain('p.yaml: stages[2]: unknown stage "no_such_stage"');
      expect(m).toContain('p.yaml: stages[3]: unknown key "path"');
    }
  });

  it('requires a source first and a non-empty stage list', () => {
    expect(() => resolvePipeline({ stages: [] })).toThrow(/non-empty list/);
    expect(() => resolvePipeline({ stages: [{ stage: 'write_parquet', with: { path: 'x' } }] })).toThrow(/must start with a source stage/);
  });

  it('reports YAML syntax errors with the file name', () => {
    const d = tmp();
    const f = path.join(d, 'bad.yaml');
    fs.writeFileSync(f, 'stages: [\n  - {stage: x\n');
    expect(() => loadPipelineFile(f)).toThrow(/bad\.yaml:\d+:\d+: not valid YAML/);
  });
});

describe('runner', () => {
  it('runs phases: a later source starts after earlier stages finish, counters add up', async () => {
    const d = tmp();
    const src = path.join(d, 'in.parquet');
    writeParquetFile(src, [interactions(500), interactions(300, 500)], { rowGroupSize: 200 });
    const p = resolvePipeline({
      name: 'phases',
      stages: [
        { stage: 'read_parquet', with: { path: src } },
        { stage: 'write_parquet', with: { path: path.join(d, 'a'), rows_per_file: 350 } },
        { stage: 'read_parquet', with: { path: path.join(d, 'a') } },
        { stage: 'write_parquet', with: { path: path.join(d, 'b') } },
      ],
    });
    const r = await runPipeline(p, { outDir: path.join(d, 'run'), logger: memoryLogger() });
    expect(r.stages.map((s) => s.rowsOut)).toEqual([800, 800, 800, 800]);
    const manifest = JSON.parse(fs.readFileSync(path.join(d, 'a', '_manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([350, 350, 100]);
    const back = concatBatches(await readParquetAll(path.join(d, 'b')));
    const orig = concatBatches([interactions(500), interactions(300, 500)]);
    expect(Array.from(back.columns.reward as Float32Array)).toEqual(Array.from(orig.columns.reward as Float32Array));
    expect(fs.existsSync(path.join(d, 'run', 'report.json'))).toBe(true);
    expect(fs.readdirSync(path.join(d, 'a')).some((n) => n.includes('.tmp-'))).toBe(false);
  });

  it('fails the run with the stage error and leaves no half dataset manifest', async () => {
    const d = tmp();
    const p = resolvePipeline({
      stages: [
        { stage: 'read_parquet', with: { path: path.join(d, 'missing.parquet') } },
        { stage: 'write_parquet', with: { path: path.join(d, 'out') } },
      ],
    });
    await expect(runPipeline(p, { outDir: path.join(d, 'run'), logger: memoryLogger() })).rejects.toThrow(/no such file or directory/);
    expect(fs.existsSync(path.join(d, 'out', '_manifest.json'))).toBe(false);
  });
});

describe('cli', () => {
  it('runs one stage from a file to a dataset and validates pipelines', async () => {
    const d = tmp();
    const src = path.join(d, 'in.parquet');
    writeParquetFile(src, [interactions(50)]);
    const out = path.join(d, 'out');
    expect(await main(['stage', 'write_parquet', '--input', src, '--opt', `path=${out}`, '--out', path.join(d, 'run'), '--quiet'])).toBe(0);
    expect((await readParquetAll(out)).reduce((s, b) => s + b.numRows, 0)).toBe(50);
    const bad = path.join(d, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ stages: [{ stage: 'read_parquet', with: { paht: 'x' } }] }));
    expect(await main(['validate', bad])).toBe(2);
  });
});

describe('variables in options', () => {
  it('replaces ${out_dir}, ${name} and ${seed}, and rejects unknown ones naming the stage', () => {
    const p = resolvePipeline({
      name: 'v',
      out_dir: 'runs/x-${name}',
      seed: 3,
      stages: [{ stage: 'read_parquet', with: { path: '${out_dir}/data-${seed}', columns: ['${name}'] } }],
    });
    expect(p.outDir).toBe('runs/x-v');
    expect(p.stages[0]!.config.path).toBe('runs/x-v/data-3');
    expect(p.stages[0]!.config.columns).toEqual(['v']);
    expect(() => resolvePipeline({ stages: [{ stage: 'read_parquet', with: { path: '${nope}/a' } }] }, 'p.yaml')).toThrow(
      /p\.yaml: stages\[0\] \(stage "read_parquet"\).*unknown variable \$\{nope\}/,
    );
  });
});
