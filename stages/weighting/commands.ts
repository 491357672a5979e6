import type { Command } from '../../pipelines/command.js';
import { theoryCommand } from './theory-command.js';

/** CLI subcommands contributed by this concern (joined in pipelines/commands.ts). */
export const weightingCommands: Command[] = [theoryCommand];
