#!/usr/bin/env node
/**
 * recpost: run pipelines, single stages, and helpers from the command line.
 * `recpost --help` lists the commands; `recpost <command> --help` shows one.
 *
 * Exit codes: 0 success (and --help, --version); 2 a mistake in the command
 * line, a configuration or the data (one line `recpost: <message>`, naming
 * the option, or the file:line:column); 1 anything else (one line; the stack
 * trace with --debug or RECPOST_DEBUG=1).
 */
import * as fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../stages/core/config-schema.js';
import { DataError } from '../stages/core/errors.js';
import { commandsFor, type CliCommand } from './commands.js';
import { packageVersion } from './commands/version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** File-system errors that name a path the user gave (missing, unreadable, unwritable): a usage mistake, exit 2. */
const USER_PATH_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENOTEMPTY', 'ENOSPC', 'ELOOP', 'ENAMETOOLONG']);

/** The program with every command; output goes through process.stdout/stderr, exits are thrown (main turns them into codes). */
export function buildProgram(commands: readonly CliCommand[]): Command {
  const program = new Command('recpost');
  program
    .description('Post-train generative recommenders on offline logs with streaming pipelines of stages.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--debug', 'print the stack trace of an unexpected error (also RECPOST_DEBUG=1)')
    .exitOverride()
    // Excess arguments are a mistake (commander 14 allows them by default; its commands inherit this).
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      // Errors are printed once, by main, as `recpost: <message>`.
      outputError: () => undefined,
    });
  for (const c of commands) c.define(program);
  program.addHelpText(
    'after',
    '\nExit codes: 0 success; 2 a mistake in the command line, a configuration or the data; 1 anything else.\nRun `recpost <command> --help` for the options of a command.',
  );
  return program;
}

/** commander's "error: unknown option '--sed'\n(Did you mean --seed?)" as one line. */
function commanderMessage(e: CommanderError): string {
  return e.message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace('(Did you mean', '(did you mean');
}

/** A Node file-system error as "<path>: <reason> (<call>)". */
function fileSystemMessage(e: NodeJS.ErrnoException): string {
  const reason = e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*$/s, '');
  return `${e.path}: ${reason}${e.syscall ? ` (${e.syscall})` : ''}`;
}

const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');

/** Print an error as the CLI does and return its exit code. */
export function reportError(e: unknown, debug: boolean): number {
  const say = (line: string) => process.stderr.write(`recpost: ${line}\n`);
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) return EXIT_OK;
    if (e.code !== 'commander.help') say(commanderMessage(e));
    return EXIT_USAGE;
  }
  if (e instanceof ConfigError) {
    // Several problems: one line each.
    for (const line of e.message.split('\n')) if (line.trim()) say(line);
    return EXIT_USAGE;
  }
  if (e instanceof DataError) {
    say(oneLine(e.message));
    return EXIT_USAGE;
  }
  const errno = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof errno.code === 'string' && USER_PATH_ERRORS.has(errno.code) && typeof errno.path === 'string') {
    say(fileSystemMessage(errno));
    if (debug) process.stderr.write(`${e.stack}\n`);
    return EXIT_USAGE;
  }
  if (debug) process.stderr.write(`recpost: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  else say(oneLine(e instanceof Error ? e.message : String(e)));
  return EXIT_FAILURE;
}

/** Run the CLI on `argv` (without node and the script) and return the exit code. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env.RECPOST_DEBUG === '1';
  try {
    await buildProgram(await commandsFor(argv)).parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    return reportError(e, debug);
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${fs.realpathSync(process.argv[1])}`).href;
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  const debug = argv.includes('--debug') || process.env.RECPOST_DEBUG === '1';
  // An error outside the command's promise (a stream callback, a worker) is printed the same way.
  const fatal = (e: unknown) => process.exit(reportError(e, debug));
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  // `recpost … | head`: a closed pipe ends the output, not with an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : fatal(e)));
  main(argv).then((code) => {
    process.exitCode = code;
  });
}
