import type { Command } from 'commander';
import { collect, integerOption } from '../args.js';

/** The options `run` and `validate` share (they must check the same thing). */
export function pipelineFileOptions(cmd: Command): Command {
  return cmd
    .option('--out <dir>', "run directory (overrides the file's out_dir; default runs/<name>)")
    .option('--seed <n>', "base random seed (overrides the file's seed)", integerOption('--seed'))
    .option(
      '--set <path=value>',
      'override a value, e.g. stages.bc.with.epochs=2 or stages.4.with.objective={name: drpo}: a stage by id or index, the value as YAML (repeatable)',
      collect,
    );
}
