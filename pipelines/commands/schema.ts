/** `recpost schema [--output FILE]`: the JSON Schema of pipeline files, for editors. */
import * as fs from 'node:fs';
import type { CliCommand } from '../command.js';
import { checkWritableFile } from './paths.js';

export const schemaCommand: CliCommand = {
  name: 'schema',
  define: (program) =>
    program
      .command('schema')
      .summary('print the JSON Schema of pipeline files')
      .option('--output <file>', 'write the schema to this file instead of stdout')
      .action(async (opts: { output?: string }) => {
        if (opts.output !== undefined) checkWritableFile(opts.output, '--output');
        const { pipelineJsonSchema } = await import('../json-schema.js');
        const text = `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
        if (opts.output === undefined) {
          process.stdout.write(text);
          return;
        }
        fs.writeFileSync(opts.output, text);
      }),
};
