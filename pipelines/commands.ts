/**
 * Every `recpost` subcommand, in the order `recpost --help` lists them. Each
 * lives in pipelines/commands/<name>.ts; the library code it calls stays in
 * stages/ (which never imports from pipelines/).
 */
import type { CliCommand } from './command.js';
import { backendCommand } from './commands/backend.js';
import { checkpointCommand } from './commands/checkpoint.js';
import { evaluateCommand } from './commands/evaluate.js';
import { exportCommand } from './commands/export.js';
import { recommendCommand } from './commands/recommend.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { stageCommand } from './commands/stage.js';
import { stagesCommand } from './commands/stages.js';
import { statsMergeCommand } from './commands/stats-merge.js';
import { theoryCommand } from './commands/theory.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';

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
  exportCommand,
  recommendCommand,
];
