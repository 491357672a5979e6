/**
 * Subcommands of the `recpost` CLI beyond run/validate/stage/stages/schema,
 * contributed by the concerns that own them (each concern's commands.ts).
 * Each returns the process exit code.
 */
import type { Command } from './command.js';
import { weightingCommands } from '../stages/weighting/commands.js';
import { trainCommands } from '../stages/train/commands.js';
import { evalCommands } from '../stages/eval/commands.js';
import { sinksCommands } from '../stages/sinks/commands.js';
import { statsCommands } from '../stages/stats/commands.js';
import { legacyTrackingCommands } from './commands/tracking-legacy.js';

export type { Command } from './command.js';
export const EXTRA_COMMANDS: Command[] = [...weightingCommands, ...trainCommands, ...evalCommands, ...sinksCommands, ...statsCommands, ...legacyTrackingCommands];
