/**
 * `recpost evaluate <checkpoint | directory of checkpoints> --data <examples>`:
 * evaluate checkpoints on a Parquet examples dataset and print the metric
 * records. It runs a two-stage pipeline (read_parquet → an evaluation stage),
 * so the numbers are exactly those of the pipeline stages; with --state the
 * evaluation is incremental (new checkpoints or new data files are added, old
 * pairs are not recomputed) and resumable.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from '../../pipelines/command.js';
import { applySets, flag, hasFlag, type ParsedArgs } from '../../pipelines/args.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { ConfigError } from '../core/config-schema.js';
import { artifactMap } from '../core/artifacts.js';
import { CHECKPOINTS_ARTIFACT, type CheckpointRef } from './checkpoints.js';
import { findCheckpoints } from './find-checkpoints.js';
import { formatRecordsTable } from './format.js';

/** --kind values and the stage each runs. */
export const EVALUATION_KINDS: Record<string, string> = {
  ranking: 'evaluate_ranking',
  reward_model: 'evaluate_reward_model',
  judge: 'evaluate_judge',
  proxy_gold: 'evaluate_proxy_gold',
};

const USAGE = `usage: recpost evaluate <checkpoint-dir | dir of checkpoints> --data <examples.parquet | dataset dir>
  --kind K          ranking (default) | reward_model | judge | proxy_gold
  --state FILE      evaluation state (JSON): skip (checkpoint, data file) pairs already evaluated, add new ones
  --splits a,b      splits to evaluate (default: the stage's, test,valid for ranking)
  --ks 10,50        cut-offs (ranking)
  --baselines a,b   ranking: popularity,random; reward_model: global_mean,user_mean,item_mean; "none" for none
  --batch-rows N    contexts per model call
  --opt key=value   any other option of the stage (repeatable), e.g. --opt world=sim/world
  --format F        table (default) | jsonl
  --run NAME        run label of the records (default "evaluate")   --seed N   --out DIR (metrics.jsonl, report.json)   --quiet`;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The evaluation stage's options from the command line. */
export function evaluateOptions(args: ParsedArgs): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  applySets(opts, args.flags.get('opt') ?? []);
  const state = flag(args, 'state');
  if (state !== undefined) opts.state = state;
  const splits = flag(args, 'splits');
  if (splits !== undefined) opts.splits = list(splits);
  const ks = flag(args, 'ks');
  if (ks !== undefined) {
    const values = list(ks).map(Number);
    if (values.some((k) => !Number.isInteger(k) || k < 1)) throw new ConfigError(`evaluate: --ks must be positive integers separated by commas, got ${JSON.stringify(ks)}`, ['ks']);
    opts.ks = values;
  }
  const baselines = flag(args, 'baselines');
  if (baselines !== undefined) opts.baselines = baselines === 'none' ? [] : list(baselines);
  const batchRows = flag(args, 'batch-rows');
  if (batchRows !== undefined) opts.batch_rows = Number(batchRows);
  return opts;
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'evaluate checkpoint(s) on a Parquet examples dataset (incremental with --state)',
  usage: 'evaluate <ckpt> --data D',
  async run(args) {
    const target = args.positionals[1];
    const data = flag(args, 'data');
    if (hasFlag(args, 'help')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (!target || !data) throw new ConfigError(`evaluate: name a checkpoint (or a directory of checkpoints) and --data\n${USAGE}`, ['usage']);
    if (!fs.existsSync(data)) throw new ConfigError(`evaluate: --data ${data} does not exist`, ['data']);
    const kind = flag(args, 'kind') ?? 'ranking';
    const stage = EVALUATION_KINDS[kind];
    if (!stage) throw new ConfigError(`evaluate: --kind must be one of ${Object.keys(EVALUATION_KINDS).join(', ')}; got ${JSON.stringify(kind)}`, ['kind']);
    const format = flag(args, 'format') ?? 'table';
    if (format !== 'table' && format !== 'jsonl') throw new ConfigError(`evaluate: --format must be table or jsonl, got ${JSON.stringify(format)}`, ['format']);

    let refs: CheckpointRef[];
    try {
      refs = findCheckpoints(target);
    } catch (e) {
      throw new ConfigError(`evaluate: ${(e as Error).message}`, ['checkpoint']);
    }
    // No checkpoint.json anywhere below: let loadPolicy judge the directory itself.
    if (refs.length === 0) refs = [{ dir: target }];

    const quiet = hasFlag(args, 'quiet');
    const name = flag(args, 'run') ?? 'evaluate';
    const seed = flag(args, 'seed');
    const pipeline = resolvePipeline(
      {
        name,
        ...(seed !== undefined ? { seed: Number(seed) } : {}),
        stages: [
          { stage: 'read_parquet', with: { path: data } },
          { stage, with: evaluateOptions(args) },
        ],
      },
      'evaluate',
    );
    const out = flag(args, 'out');
    const outDir = out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-evaluate-'));
    try {
      if (!quiet) process.stderr.write(`evaluate: ${refs.length} checkpoint(s) below ${target}\n`);
      const result = await runPipeline(pipeline, {
        outDir,
        quiet,
        writeFiles: out !== undefined,
        artifacts: artifactMap([[CHECKPOINTS_ARTIFACT, refs]]),
      });
      const text = format === 'jsonl' ? result.metrics.map((r) => JSON.stringify(r)).join('\n') : formatRecordsTable(result.metrics);
      process.stdout.write(`${text}\n`);
    } finally {
      if (out === undefined) fs.rmSync(outDir, { recursive: true, force: true });
    }
    return 0;
  },
};

/** CLI subcommands contributed by this concern (joined in pipelines/commands.ts). */
export const evalCommands: Command[] = [evaluateCommand];
