/**
 * Relative paths in a pipeline file: a source stage's inputs are read
 * relative to the file's directory; out_dir, outputs and what the run itself
 * writes stay relative to the current directory; --set values are as given.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineForCli } from '../../pipelines/commands/pipeline-file.js';
import { loadPipelineFile, rebaseInputPaths } from '../../pipelines/spec.js';

function pipelineDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-paths-'));
  fs.mkdirSync(path.join(root, 'pipes'));
  fs.mkdirSync(path.join(root, 'data'));
  fs.copyFileSync('data/samples/ratings-sim.dat', path.join(root, 'data', 'ratings.dat'));
  return root;
}

const PIPELINE = `name: paths
stages:
  - stage: ingest
    with: { path: ../data/ratings.dat, output: "\${out_dir}/interactions" }
  - stage: split_sequences
    with: { output: made/examples }
  - stage: read_parquet
    with: { path: made/examples }
  - stage: read_parquet
    with: { path: "\${out_dir}/interactions" }
  - stage: read_parquet
    with: { path: runs/paths/interactions }
`;
/** Without the last stage, which reads under the default out_dir (the CLI tests give --out). */
const CLI_PIPELINE = PIPELINE.split('\n').slice(0, -3).join('\n');

describe('relative paths of a pipeline file', () => {
  it('source inputs follow the file; run outputs, ${out_dir} values and run-written inputs follow the current directory', () => {
    const root = pipelineDir();
    const file = path.join(root, 'pipes', 'p.yaml');
    fs.writeFileSync(file, PIPELINE);
    const p = loadPipelineFile(file);
    expect(p.outDir).toBe(path.join('runs', 'paths'));
    expect(p.stages.map((s) => s.config.path ?? s.config.output)).toEqual([
      path.join(root, 'data', 'ratings.dat'),
      'made/examples',
      'made/examples', // written by split_sequences above: the run's own output
      'runs/paths/interactions',
      'runs/paths/interactions', // under out_dir
    ]);
    expect(p.stages[0]!.config.output).toBe('runs/paths/interactions');
  });

  it('validate finds the input next to the file, and reports a missing one at the path it looked', async () => {
    const root = pipelineDir();
    const file = path.join(root, 'pipes', 'p.yaml');
    fs.writeFileSync(file, CLI_PIPELINE);
    const p = await loadPipelineForCli(file, { out: path.join(root, 'out') });
    expect(p.stages[0]!.config.path).toBe(path.join(root, 'data', 'ratings.dat'));
    fs.writeFileSync(file, CLI_PIPELINE.replace('../data/ratings.dat', '../data/none.dat'));
    await expect(loadPipelineForCli(file, { out: path.join(root, 'out') })).rejects.toThrow(
      `${file}:4:19: stages[0] (stage "ingest"): input path ${JSON.stringify(path.join(root, 'data', 'none.dat'))} does not exist`,
    );
  });

  it('a --set value is relative to the current directory, as typed on the command line', async () => {
    const root = pipelineDir();
    const file = path.join(root, 'pipes', 'p.yaml');
    fs.writeFileSync(file, CLI_PIPELINE);
    const p = await loadPipelineForCli(file, { out: path.join(root, 'out'), set: ['stages.0.with.path=data/samples/ratings-sim.dat'] });
    expect(p.stages[0]!.config.path).toBe('data/samples/ratings-sim.dat');
  });

  it('absolute paths, paths of non-source stages and a file in the current directory are left alone', () => {
    const doc = {
      stages: [
        { stage: 'read_parquet', with: { path: '/abs/data', table: 'examples' } },
        { stage: 'read_metrics', with: { paths: ['a.jsonl', '/b.jsonl'] } },
        { stage: 'simulate_ratings', with: { preset: 'my-preset.json' } },
        { stage: 'simulate_recsim', with: { preset: 'medium' } },
        { stage: 'train_sasrec', with: { init: 'ckpt/bc' } },
        { stage: 'write_parquet', with: { path: 'out' } },
      ],
    };
    const same = structuredClone(doc);
    rebaseInputPaths(same, '.');
    expect(same).toEqual(doc);
    rebaseInputPaths(doc, 'pipes');
    expect(doc.stages.map((s) => s.with)).toEqual([
      { path: '/abs/data', table: 'examples' },
      { paths: ['pipes/a.jsonl', '/b.jsonl'] },
      { preset: 'pipes/my-preset.json' },
      { preset: 'medium' },
      { init: 'ckpt/bc' },
      { path: 'out' },
    ]);
  });

  it('the shipped examples read their sample data wherever they are run from', () => {
    const p = loadPipelineFile(path.resolve('pipelines/examples/ingest-split-stats.yaml'));
    expect(p.stages[0]!.config.path).toBe(path.resolve('data/samples/ratings-sim.dat'));
    expect(p.stages[0]!.config.output).toBe('runs/ingest-split-stats/interactions');
  });
});
