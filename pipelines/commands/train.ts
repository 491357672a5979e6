/** `recpost train <examples>`: read_parquet → train_sasrec / train_gaussian / train_online as a pipeline. */
import { ARTIFACT } from '../../stages/core/artifacts.js';
import { Option } from 'commander';
import { applyOptionAssignments, collect, integerOption } from '../args.js';
import type { CliCommand } from '../command.js';
import { checkExists, checkWritableDir } from './paths.js';

interface TrainOptions {
  model: string;
  objective?: string;
  opt?: string[];
  out?: string;
  seed?: number;
  quiet?: boolean;
}

export const trainCommand: CliCommand = {
  name: 'train',
  define: (program) =>
    program
      .command('train')
      .summary('train on a Parquet examples dataset (read_parquet → train_sasrec / train_gaussian / train_online)')
      .argument('<examples>', 'examples: a Parquet file or dataset directory')
      .addOption(new Option('--model <model>', 'trainer stage: train_<model>').choices(['sasrec', 'gaussian', 'online']).default('sasrec'))
      .option('--objective <name>', 'objective name (the stage option objective.name)')
      .option('--opt <key=value>', 'any option of the trainer stage, the value as YAML, e.g. --opt epochs=5 --opt objective.lambda=0.5 (repeatable)', collect)
      .option('--out <dir>', 'run directory (checkpoints, metrics.jsonl; default runs/train-<model>)')
      .option('--seed <n>', 'base random seed', integerOption('--seed'))
      .option('--quiet', 'no progress lines and no stage report')
      .action(async (input: string, opts: TrainOptions) => {
        checkExists(input, 'train: examples');
        const stageOptions: Record<string, unknown> = {};
        if (opts.objective !== undefined) stageOptions.objective = { name: opts.objective };
        applyOptionAssignments(stageOptions, opts.opt ?? [], '--opt');
        const { resolvePipeline } = await import('../spec.js');
        const { formatStageReport, runPipeline } = await import('../runner.js');
        const p = resolvePipeline(
          {
            name: `train-${opts.model}`,
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            stages: [
              { stage: 'read_parquet', with: { path: input, table: 'examples' } },
              { stage: `train_${opts.model}`, with: stageOptions },
            ],
          },
          `train ${opts.model}`,
        );
        checkWritableDir(opts.out ?? p.outDir, '--out');
        const quiet = opts.quiet ?? false;
        const result = await runPipeline(p, { outDir: opts.out, quiet });
        if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
        const last = result.artifacts.get(ARTIFACT.checkpoint);
        if (typeof last === 'string') process.stdout.write(`${last}\n`);
      }),
};
