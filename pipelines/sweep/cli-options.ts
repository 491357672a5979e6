/**
 * The flags that turn `recpost run` into a sweep: `--seeds`, `--grid`, and
 * where the replicates run (`--workers`, `--redis`, shared with the sharded
 * run: added here only when the command does not have them yet).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../stages/core/config-schema.js';
import { collect } from '../args.js';

export interface SweepFlags {
  seeds?: string;
  grid?: string[];
  workers?: number;
  redis?: string;
  /** The workers' queue (with --redis; the flag comes from the cluster engine's run options). */
  queue?: string;
}

/** Commander's parser for --workers: a positive integer. */
export function positiveIntegerOption(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1)
      throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`, [name]);
    return n;
  };
}

const hasOption = (cmd: Command, flag: string) => cmd.options.some((o) => o.long === flag);

export function sweepOptions(cmd: Command): Command {
  cmd
    .option('--seeds <list>', 'a sweep: one replicate per seed, e.g. 1,2,3, each in <out>/seed-<s>/, then the table over all of them')
    .option(
      '--grid <path=values>',
      'a sweep over a value: a path as --set takes it and a comma-separated YAML list, e.g. stages.drpo.with.objective.rho=0.25,0.5,1 (repeatable; crossed with each other and --seeds)',
      collect,
    );
  if (!hasOption(cmd, '--workers'))
    cmd.option('--workers <n>', 'local worker processes (a sweep: replicates at once; default: min(cores, replicates))', positiveIntegerOption('--workers'));
  if (!hasOption(cmd, '--redis')) cmd.option('--redis <url>', 'run on `recpost worker`s through Redis (redis://host:port or unix:///path/to/socket)');
  return cmd;
}

/** Whether the command line asks for a sweep. */
export function isSweep(opts: SweepFlags): boolean {
  return opts.seeds !== undefined || (opts.grid?.length ?? 0) > 0;
}
