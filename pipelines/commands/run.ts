/** `recpost run <pipeline>`: run a pipeline file. */
import { ARTIFACT } from '../../stages/core/artifacts.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { engineChoiceFromFlags, REDIS_RUN_OPTIONS, type RedisRunFlags } from '../engine/redis-run-options.js';
import type { CliCommand } from '../command.js';
import { isSweep, sweepOptions, type SweepFlags } from '../sweep/cli-options.js';
import { pipelineFileOptions } from './pipeline-options.js';
import type { PipelineFileOptions } from './pipeline-file.js';

/** The command-line overrides of a run, for run.json: each --set, then --seed and --out. */
function runOverrides(opts: PipelineFileOptions): string[] {
  return [...(opts.set ?? []), ...(opts.seed !== undefined ? [`--seed=${opts.seed}`] : []), ...(opts.out !== undefined ? [`--out=${opts.out}`] : [])];
}

export const runCommand: CliCommand = {
  name: 'run',
  define: (program) =>
    sweepOptions(
      pipelineFileOptions(
        program
          .command('run')
          .summary('run a pipeline file (YAML or JSON)')
          .description(
            'Run a pipeline file: its stages stream batches to each other; the per-stage report goes to stderr and the comparison table (if any) to stdout.',
          )
          .argument('<pipeline>', 'pipeline file (YAML or JSON)'),
      )
        .option('--quiet', 'no progress lines and no stage report')
        .addOption(REDIS_RUN_OPTIONS.redis())
        .addOption(REDIS_RUN_OPTIONS.queue())
        .addOption(REDIS_RUN_OPTIONS.shards()),
    ).action(async (file: string, opts: PipelineFileOptions & RedisRunFlags & SweepFlags & { quiet?: boolean }) => {
      const { loadPipelineForCli } = await import('./pipeline-file.js');
      if (isSweep(opts)) return (await import('../sweep/run-sweep.js')).runSweepCommand(file, opts, loadPipelineForCli);
      // The cluster engine runs sharded plans: until the plan runner is wired here, say so rather than run in one process.
      if (engineChoiceFromFlags(opts) || opts.shards !== undefined)
        throw new ConfigError('--redis and --shards need the sharded plan runner, which this build of `recpost run` does not wire yet', ['--redis']);
      const p = await loadPipelineForCli(file, opts);
      const { formatStageReport, runPipeline } = await import('../runner.js');
      const quiet = opts.quiet ?? false;
      const result = await runPipeline(p, { outDir: opts.out, quiet, record: { pipelineFile: file, overrides: runOverrides(opts) } });
      if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
      const table = result.artifacts.get(ARTIFACT.reportTable);
      if (typeof table === 'string') process.stdout.write(`${table}\n`);
    }),
};
