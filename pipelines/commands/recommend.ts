/**
 * `recpost recommend <checkpoint> --data <examples> --k 10 --output recs/`:
 * batch inference. For every row of the chosen split of an examples dataset,
 * the policy scores the catalog after the row's context (as evaluation does:
 * scoreContexts of the loaded checkpoint) and the K best items are written,
 * the context's items and padding excluded (stages/export/top-k.ts, the
 * candidate rule of evaluation), as a Parquet dataset of
 * (user_id int32, rank int32 from 1, item_id int32, score float32).
 * Rows are read, scored and written in chunks (memory: one chunk's scores).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command as CommanderCommand } from 'commander';
import type { Batch } from '../../stages/core/batch.js';
import { sliceBatch, takeRows } from '../../stages/core/batch.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { contextsOf, int32Of, splitCodes } from '../../stages/eval/eval-rows.js';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { listParquetFiles, readParquetFile } from '../../stages/io/parquet.js';
import { topKPerRow } from '../../stages/export/top-k.js';
import { loadPolicy } from '../../stages/train/load-policy.js';
import { SPLIT_NAMES } from '../../schemas/tables.js';

export interface RecommendArgs {
  checkpoint: string;
  /** Examples dataset (Parquet file or directory) with user_id, context, split. */
  data: string;
  output: string;
  k?: number;
  /** A split name, or "all" (default "test"). */
  split?: string;
  /** Keep the context's items as candidates (default false: excluded, as evaluation does). */
  includeHistory?: boolean;
  /** Rows scored at once (default 256). */
  batchRows?: number;
}

export interface RecommendResult {
  rows: number;
  recommendations: number;
  output: string;
}

function recommendationsBatch(users: Int32Array, top: ReturnType<typeof topKPerRow>): Batch {
  const n = top.items.length;
  const userId = new Int32Array(n);
  const rank = new Int32Array(n);
  for (let r = 0; r < users.length; r++) {
    for (let i = top.offsets[r]!; i < top.offsets[r + 1]!; i++) {
      userId[i] = users[r]!;
      rank[i] = i - top.offsets[r]! + 1;
    }
  }
  return { table: 'recommendations', numRows: n, columns: { user_id: userId, rank, item_id: Int32Array.from(top.items), score: Float32Array.from(top.scores) } };
}

export async function runRecommend(args: RecommendArgs): Promise<RecommendResult> {
  const k = args.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`recommend: --k must be a positive integer; got ${String(args.k)}`, ['k']);
  const batchRows = args.batchRows ?? 256;
  const split = args.split ?? 'test';
  if (split !== 'all' && !(SPLIT_NAMES as readonly string[]).includes(split)) throw new ConfigError(`recommend: --split must be one of ${[...SPLIT_NAMES, 'all'].join(', ')}; got ${JSON.stringify(split)}`, ['split']);
  if (!fs.existsSync(args.checkpoint)) throw new ConfigError(`recommend: no such checkpoint directory: ${args.checkpoint}`, ['checkpoint']);
  if (!fs.existsSync(args.data)) throw new ConfigError(`recommend: no such examples dataset: ${args.data}`, ['data']);
  const within = (inner: string, outer: string) => {
    const rel = path.relative(path.resolve(outer), path.resolve(inner));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  // The writer replaces its directory: never let it touch the input.
  if (within(args.output, args.data) || within(args.data, args.output)) {
    throw new ConfigError(`recommend: --output ${args.output} and --data ${args.data} overlap; writing would destroy the input (name another directory)`, ['output']);
  }
  const files = listParquetFiles(args.data);
  if (files.length === 0) throw new ConfigError(`recommend: no Parquet files in ${args.data}`, ['data']);
  const wanted = split === 'all' ? undefined : splitCodes([split])[0]!;

  const policy = await loadPolicy(args.checkpoint);
  const writer = new DatasetWriter(args.output);
  let rows = 0;
  let recommendations = 0;
  try {
    for (const file of files) {
      for await (const raw of readParquetFile(file, { columns: ['user_id', 'context', 'split'], table: 'examples' })) {
        let batch = raw;
        if (wanted !== undefined) {
          const s = int32Of(raw, 'split');
          const keep: number[] = [];
          for (let i = 0; i < s.length; i++) if (s[i] === wanted) keep.push(i);
          if (keep.length === 0) continue;
          batch = takeRows(raw, Int32Array.from(keep));
        }
        for (let start = 0; start < batch.numRows; start += batchRows) {
          const chunk = sliceBatch(batch, start, Math.min(batch.numRows, start + batchRows));
          const contexts = contextsOf(chunk);
          const scores = await policy.scoreContexts(contexts);
          const top = topKPerRow(scores, policy.numItems, contexts, k, !args.includeHistory);
          const out = recommendationsBatch(int32Of(chunk, 'user_id'), top);
          writer.write(out);
          rows += chunk.numRows;
          recommendations += out.numRows;
        }
      }
    }
  } finally {
    policy.dispose();
  }
  writer.close();
  return { rows, recommendations, output: args.output };
}

/** A positive-integer option value (commander passes strings). */
function positiveInt(option: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`recommend: ${option} must be a positive integer; got ${v}`, [option]);
    return n;
  };
}

/**
 * The commander definition, shaped as the `cli` branch's CliCommand
 * ({ name, define(program) }): at merge, add it to COMMANDS in pipelines/commands.ts.
 */
export const recommendCommand = {
  name: 'recommend',
  define: (program: CommanderCommand): CommanderCommand =>
    program
      .command('recommend')
      .summary('top-K recommendations of a checkpoint for an examples dataset → Parquet (user_id, rank, item_id, score)')
      .argument('<checkpoint>', 'a checkpoint directory (or a directory of step-<n> checkpoints: the latest)')
      .requiredOption('--data <examples>', 'examples dataset (Parquet file or directory) with user_id, context, split')
      .requiredOption('--output <dir>', 'Parquet dataset directory to write')
      .option('--k <n>', 'recommendations per row', positiveInt('--k'), 10)
      .option('--split <name>', 'rows to recommend for: train, valid, test or all', 'test')
      .option('--include-history', 'keep the context\'s items as candidates (default: excluded, as evaluation does)', false)
      .option('--batch-rows <n>', 'rows scored at once', positiveInt('--batch-rows'), 256)
      .action(async (checkpoint: string, opts: { data: string; output: string; k: number; split: string; includeHistory: boolean; batchRows: number }) => {
        const r = await runRecommend({ checkpoint, ...opts });
        process.stderr.write(`recommend: ${r.recommendations} recommendation(s) for ${r.rows} row(s) → ${r.output}\n`);
      }),
};
