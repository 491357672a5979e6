/**
 * `recpost evaluate <checkpoint | directory of checkpoints> --data <examples>`:
 * evaluate checkpoints on a Parquet examples dataset and print the metric
 * records. It runs a two-stage pipeline (read_parquet → an evaluation stage),
 * so the numbers are exactly those of the pipeline stages; with --state the
 * evaluation is incremental (new checkpoints or new data files are added, old
 * pairs are not recomputed) and resumable. With --watch it follows the
 * checkpoint and data directories and evaluates what is committed there as it
 * comes (evaluate-watch.ts).
 */
import { artifactMap } from '../../stages/core/artifacts.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Option } from 'commander';
import { ConfigError } from '../../stages/core/config-schema.js';
import { applyOptionAssignments, collect, commaList, integerOption } from '../args.js';
import type { CliCommand } from '../command.js';
import { checkExists, checkWritableDir } from './paths.js';

/** --kind values and the stage each runs. */
export const EVALUATION_KINDS: Record<string, string> = {
  ranking: 'evaluate_ranking',
  reward_model: 'evaluate_reward_model',
  judge: 'evaluate_judge',
  proxy_gold: 'evaluate_proxy_gold',
};

export interface EvaluateOptions {
  data: string;
  kind: string;
  state?: string;
  splits?: string;
  ks?: string;
  baselines?: string;
  batchRows?: string;
  opt?: string[];
  format: string;
  run: string;
  seed?: number;
  out?: string;
  quiet?: boolean;
  watch?: boolean;
  interval?: string;
}

/** The evaluation stage's options from the command line. */
export function evaluateStageOptions(opts: Omit<EvaluateOptions, 'data' | 'kind' | 'format' | 'run'>): Record<string, unknown> {
  const out = applyOptionAssignments({}, opts.opt ?? [], '--opt');
  if (opts.state !== undefined) out.state = opts.state;
  if (opts.splits !== undefined) out.splits = commaList(opts.splits);
  if (opts.ks !== undefined) {
    const values = commaList(opts.ks).map(Number);
    if (values.some((k) => !Number.isInteger(k) || k < 1))
      throw new ConfigError(`evaluate: --ks must be positive integers separated by commas, got ${JSON.stringify(opts.ks)}`, ['ks']);
    out.ks = values;
  }
  if (opts.baselines !== undefined) out.baselines = opts.baselines === 'none' ? [] : commaList(opts.baselines);
  if (opts.batchRows !== undefined) out.batch_rows = Number(opts.batchRows);
  return out;
}

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  define: (program) =>
    program
      .command('evaluate')
      .summary('evaluate checkpoint(s) on a Parquet examples dataset (incremental with --state)')
      .argument('<checkpoint...>', 'checkpoint directories, or directories of checkpoints (searched below)')
      .requiredOption('--data <path>', 'examples: a Parquet file or dataset directory (with --watch: a dataset, or a directory of datasets)')
      .addOption(new Option('--kind <kind>', 'what to evaluate').choices(Object.keys(EVALUATION_KINDS)).default('ranking'))
      .option('--state <file>', 'evaluation state (JSON): skip (checkpoint, data file) pairs already evaluated, add new ones')
      .option('--splits <a,b>', "splits to evaluate (default: the stage's, test,valid for ranking)")
      .option('--ks <10,50>', 'cut-offs (ranking)')
      .option('--baselines <a,b>', 'ranking: popularity,random; reward_model: global_mean,user_mean,item_mean; "none" for none')
      .option('--batch-rows <n>', 'contexts per model call')
      .option('--opt <key=value>', 'any other option of the stage, the value as YAML, e.g. --opt world=sim/world (repeatable)', collect)
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
      .option('--run <name>', 'run label of the records', 'evaluate')
      .option('--seed <n>', 'base random seed', integerOption('--seed'))
      .option('--out <dir>', 'write metrics.jsonl and report.json here (default: nothing written)')
      .option('--quiet', 'no progress lines')
      .option('--watch', 'follow the directories: evaluate each checkpoint and dataset once committed (needs --state; Ctrl-C stops)')
      .option('--interval <seconds>', 'with --watch: also look for changes this often, in seconds (fs.watch does not report on every file system; default 2)')
      .action(async (targets: string[], opts: EvaluateOptions) => {
        checkExists(opts.data, '--data');
        if (opts.watch) {
          const { watchEvaluation } = await import('./evaluate-watch.js');
          return watchEvaluation(targets, opts);
        }
        if (opts.interval !== undefined) throw new ConfigError('evaluate: --interval needs --watch', ['interval']);
        const target = targets.join(', ');
        const stage = EVALUATION_KINDS[opts.kind]!;
        const { findCheckpoints } = await import('../../stages/eval/find-checkpoints.js');
        const { CHECKPOINTS_ARTIFACT } = await import('../../stages/eval/checkpoints.js');
        const { formatRecordsTable } = await import('../../stages/eval/format.js');
        const { resolvePipeline } = await import('../spec.js');
        const { runPipeline } = await import('../runner.js');
        const refs = targets.flatMap((t) => {
          let found: { dir: string }[];
          try {
            found = findCheckpoints(t);
          } catch (e) {
            throw new ConfigError(`evaluate: ${(e as Error).message}`, ['checkpoint']);
          }
          // No checkpoint.json anywhere below: let loadPolicy judge the directory itself.
          return found.length === 0 ? [{ dir: t }] : found;
        });
        const pipeline = resolvePipeline(
          {
            name: opts.run,
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            stages: [
              { stage: 'read_parquet', with: { path: opts.data } },
              { stage, with: evaluateStageOptions(opts) },
            ],
          },
          'evaluate',
        );
        if (opts.out !== undefined) checkWritableDir(opts.out, '--out');
        const outDir = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-evaluate-'));
        const quiet = opts.quiet ?? false;
        try {
          if (!quiet) process.stderr.write(`evaluate: ${refs.length} checkpoint(s) below ${target}\n`);
          const result = await runPipeline(pipeline, {
            outDir,
            quiet,
            writeFiles: opts.out !== undefined,
            artifacts: artifactMap([[CHECKPOINTS_ARTIFACT, refs]]),
          });
          const text = opts.format === 'jsonl' ? result.metrics.map((r) => JSON.stringify(r)).join('\n') : formatRecordsTable(result.metrics);
          process.stdout.write(`${text}\n`);
        } finally {
          if (opts.out === undefined) fs.rmSync(outDir, { recursive: true, force: true });
        }
      }),
};
