/**
 * Every `recpost` subcommand, in the order `recpost --help` lists them. Each
 * lives in pipelines/commands/<name>.ts; the library code it calls stays in
 * stages/ (which never imports from pipelines/).
 */
import type { CliCommand } from './command.js';
import { backendCommand } from './commands/backend.js';
import { checkpointCommand } from './commands/checkpoint.js';
import { evaluateCommand } from './commands/evaluate.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { stageCommand } from './commands/stage.js';
import { stagesCommand } from './commands/stages.js';
import { statsMergeCommand } from './commands/stats-merge.js';
import { mergeCommand } from './commands/merge.js';
import { theoryCommand } from './commands/theory.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';

export type { CliCommand } from './command.js';

export const COMMANDS: CliCommand[] = [
  runCommand,
  validateCommand,
  stageCommand,
  stagesCommand,
  schemaCommand,
  theoryCommand,
  trainCommand,
  checkpointCommand,
  backendCommand,
  evaluateCommand,
  reportCommand,
  statsMergeCommand,
  workerCommand,
  mergeCommand,
];

/**
 * Commands whose modules load TensorFlow.js or Parquet as they are imported:
 * imported only when the command line names them, so `recpost --help` and
 * every other command start without them. `summary` is their one line in
 * `recpost --help` (a test keeps it equal to the command's own).
 */
export const HEAVY_COMMANDS: { name: string; summary: string; load: () => Promise<CliCommand> }[] = [
  {
    name: 'export',
    summary: 'export a SASRec checkpoint for serving (ONNX scorer and reward head)',
    load: async () => (await import('./commands/export.js')).exportCommand,
  },
  {
    name: 'recommend',
    summary: 'top-K recommendations of a checkpoint for an examples dataset → Parquet (user_id, rank, item_id, score)',
    load: async () => (await import('./commands/recommend.js')).recommendCommand,
  },
];

/** The command a command line names: its first word, or the one after `help`. */
function namedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** A heavy command not named: listed in --help; never run (a command line naming it loads the real one). */
function listedOnly(c: { name: string; summary: string }): CliCommand {
  return {
    name: c.name,
    define: (program) =>
      program
        .command(c.name)
        .summary(c.summary)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(() => {
          throw new Error(`${c.name}: command not loaded`);
        }),
  };
}

/** Every command for this command line, the heavy one it names (if any) loaded in full. */
export async function commandsFor(argv: readonly string[]): Promise<CliCommand[]> {
  const named = namedCommand(argv);
  const heavy = await Promise.all(HEAVY_COMMANDS.map((c) => (c.name === named ? c.load() : listedOnly(c))));
  return [...COMMANDS, ...heavy];
}
