import type { Command } from 'commander';

/**
 * One `recpost` subcommand. `define` adds it to the program with its
 * arguments, options, help text and action; the action throws on failure
 * (ConfigError/DataError: exit 2, anything else: exit 1) and returns on success.
 * Heavy modules (the stage registry, TensorFlow.js) are imported inside the
 * action, so `--help`, `--version` and usage errors answer at once.
 */
export interface CliCommand {
  name: string;
  define(program: Command): Command;
}
