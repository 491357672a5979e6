/** `recpost validate <pipeline>`: every check `run` makes before running, without running. */
import type { CliCommand } from '../command.js';
import { pipelineFileOptions } from './pipeline-options.js';
import type { PipelineFileOptions } from './pipeline-file.js';

export const validateCommand: CliCommand = {
  name: 'validate',
  define: (program) =>
    pipelineFileOptions(
      program
        .command('validate')
        .summary('check a pipeline file without running it')
        .description(
          "Check a pipeline file as `run` would before running it: syntax, every stage's options, the input paths of source stages, the run directory. Errors name file:line:column.",
        )
        .argument('<pipeline>', 'pipeline file (YAML or JSON)'),
    ).action(async (file: string, opts: PipelineFileOptions) => {
      const { loadPipelineForCli } = await import('./pipeline-file.js');
      const p = await loadPipelineForCli(file, opts);
      process.stdout.write(`${file}: valid pipeline "${p.name}" with ${p.stages.length} stage(s): ${p.stages.map((s) => s.def.name).join(' → ')}\n`);
    }),
};
