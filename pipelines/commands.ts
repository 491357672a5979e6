/**
 * Subcommands of the `recpost` CLI beyond run/validate/stage/stages/schema,
 * contributed by the concerns that own them (e.g. `theory` from weighting).
 * Each returns the process exit code.
 */
import type { ParsedArgs } from './args.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: ParsedArgs): Promise<number>;
}

export const EXTRA_COMMANDS: Command[] = [];
