/**
 * `export` and `recommend` for today's hand-rolled dispatcher (pipelines/cli.ts,
 * EXTRA_COMMANDS): each builds a one-command commander program from the
 * command's definition and parses the original arguments with it, so both
 * dispatchers share one definition. Delete this file at the merge with the
 * commander CLI (branch `cli`) and list exportCommand/recommendCommand in COMMANDS.
 */
import { Command as CommanderCommand, CommanderError } from 'commander';
import type { Command } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { exportCommand } from './export.js';
import { recommendCommand } from './recommend.js';

/** ParsedArgs back to argv (positionals after the command name, then every flag). */
function toArgv(args: ParsedArgs): string[] {
  const out = args.positionals.slice(1);
  for (const [k, values] of args.flags) for (const v of values) out.push(`--${k}`, ...(v === 'true' && k === 'include-history' ? [] : [v]));
  return out;
}

function adapt(def: { name: string; define(p: CommanderCommand): CommanderCommand }, summary: string): Command {
  return {
    name: def.name,
    summary,
    usage: `${def.name} <checkpoint>`,
    async run(args) {
      const program = new CommanderCommand('recpost').exitOverride().configureOutput({ writeErr: () => undefined });
      def.define(program);
      try {
        await program.parseAsync([def.name, ...toArgv(args)], { from: 'user' });
      } catch (e) {
        if (e instanceof CommanderError) throw new ConfigError(`${def.name}: ${e.message.replace(/^error: /, '')}`, ['usage']);
        throw e;
      }
      return 0;
    },
  };
}

export const legacyTrackingCommands: Command[] = [
  adapt(exportCommand, 'export a SASRec checkpoint for serving: --format onnx --output model.onnx'),
  adapt(recommendCommand, 'top-K recommendations → Parquet (user_id, rank, item_id, score): --data --k --output'),
];
