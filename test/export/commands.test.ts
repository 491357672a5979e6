import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../../pipelines/commands/export.js';
import { recommendCommand } from '../../pipelines/commands/recommend.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { concatBatches } from '../../stages/core/batch.js';
import { runCli } from '../tracking/cli-child.js';
import { randomCheckpoint, randomHistories, tmpDir } from './fixtures.js';
import { runRecommend } from '../../pipelines/commands/recommend.js';

/** A program holding one command, as the commander CLI builds it (exits thrown, output swallowed). */
async function parse(def: { define(p: Command): Command }, argv: string[]): Promise<void> {
  const program = new Command('recpost').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  def.define(program);
  await program.parseAsync(argv, { from: 'user' });
}

function examplesBatch(n: number) {
  const contexts = randomHistories(n, undefined, 13);
  return {
    table: 'examples',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, r) => r + 1),
      context: contexts,
      context_rewards: { kind: 'list' as const, offsets: contexts.offsets, values: new Float32Array(contexts.values.length) },
      action: new Int32Array(n).fill(1),
      reward: new Float32Array(n),
      timestamp: new BigInt64Array(n),
      split: new Int8Array(n).fill(2),
    },
  };
}

describe('export and recommend as commander commands (the shape the commander CLI registers)', () => {
  it('parse their options and run; usage mistakes are commander or configuration errors', async () => {
    const d = tmpDir('cmd');
    const ck = await randomCheckpoint(path.join(d, 'ck'));
    const out = path.join(d, 'm.onnx');
    await parse(exportCommand, ['export', ck, '--output', out]);
    expect(fs.existsSync(out)).toBe(true);
    await expect(parse(exportCommand, ['export', ck])).rejects.toThrow(CommanderError);
    await expect(parse(exportCommand, ['export', ck, '--output', d])).rejects.toThrow(`export: --output ${d} is a directory; name a file (e.g. model.onnx)`);

    const data = path.join(d, 'ex.parquet');
    writeParquetFile(data, [examplesBatch(6)]);
    const recs = path.join(d, 'recs');
    await parse(recommendCommand, ['recommend', ck, '--data', data, '--output', recs, '--k', '4', '--batch-rows', '2']);
    expect(concatBatches(await readParquetAll(recs)).numRows).toBe(24);
    await expect(parse(recommendCommand, ['recommend', ck, '--data', data, '--output', recs, '--k', 'ten'])).rejects.toThrow('recommend: --k must be a positive integer; got ten');
  });

  it('recommend refuses an output that overlaps its input, leaving the input whole', async () => {
    const d = tmpDir('overlap');
    const ck = await randomCheckpoint(path.join(d, 'ck'));
    const data = path.join(d, 'examples');
    const w = new DatasetWriter(data);
    w.write(examplesBatch(4));
    w.close();
    for (const output of [data, path.join(data, 'recs'), d]) {
      const err = await runRecommend({ checkpoint: ck, data, output }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe(`recommend: --output ${output} and --data ${data} overlap; writing would destroy the input (name another directory)`);
    }
    expect(concatBatches(await readParquetAll(data)).numRows).toBe(4);
  });

  it('today\'s CLI: a missing required option is one line, exit 2', () => {
    const r = runCli(['export', '/nonexistent-checkpoint']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^(error|recpost): export: required option '--output <file>' not specified\n$/);
  });
});
