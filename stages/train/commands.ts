import type { Command } from '../../pipelines/command.js';

/** CLI subcommands contributed by this concern (joined in pipelines/commands.ts). */
export const trainCommands: Command[] = [];
