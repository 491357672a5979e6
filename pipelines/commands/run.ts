/** `recpost run <pipeline>`: run a pipeline file. */
import { ARTIFACT } from '../../stages/core/artifacts.js';
import { REDIS_RUN_OPTIONS } from '../engine/redis-run-options.js';
import type { CliCommand } from '../command.js';
import { isSweep, sweepOptions, type SweepFlags } from '../sweep/cli-options.js';
import { pipelineFileOptions } from './pipeline-options.js';
import type { PipelineFileOptions } from './pipeline-file.js';
import { checkEngineFlags, engineOptions, runWithEngineOptions, type EngineCliOptions } from './sharded-run.js';

/** The command-line overrides of a run, for run.json: each --set, then --seed and --out. */
function runOverrides(opts: PipelineFileOptions): string[] {
  return [...(opts.set ?? []), ...(opts.seed !== undefined ? [`--seed=${opts.seed}`] : []), ...(opts.out !== undefined ? [`--out=${opts.out}`] : [])];
}

export const runCommand: CliCommand = {
  name: 'run',
  define: (program) =>
    sweepOptions(
      engineOptions(
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
          .addOption(REDIS_RUN_OPTIONS.queue()),
      ),
    ).action(async (file: string, opts: PipelineFileOptions & EngineCliOptions & SweepFlags & { quiet?: boolean }) => {
      if (!isSweep(opts)) checkEngineFlags(opts);
      const { loadPipelineForCli } = await import('./pipeline-file.js');
      if (isSweep(opts)) return (await import('../sweep/run-sweep.js')).runSweepCommand(file, opts, loadPipelineForCli);
      const p = await loadPipelineForCli(file, opts);
      const { formatStageReport } = await import('../runner.js');
      const quiet = opts.quiet ?? false;
      const result = await runWithEngineOptions(p, opts, { outDir: opts.out, quiet, record: { pipelineFile: file, overrides: runOverrides(opts) } });
      if (!result) return;
      if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
      const table = result.artifacts.get(ARTIFACT.reportTable);
      if (typeof table === 'string') process.stdout.write(`${table}\n`);
    }),
};
