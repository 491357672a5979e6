import type { ParsedArgs } from './args.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: ParsedArgs): Promise<number>;
}
