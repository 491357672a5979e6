/** `recpost stages [name]`: list the registered stages, or one stage's options. */
import { ConfigError } from '../../stages/core/config-schema.js';
import type { CliCommand } from '../command.js';

export const stagesCommand: CliCommand = {
  name: 'stages',
  define: (program) =>
    program
      .command('stages')
      .summary("list stages, or show one stage's options")
      .argument('[name]', 'a stage name: print its documentation and option table')
      .action(async (name: string | undefined) => {
        const { fieldsToMarkdown } = await import('../../stages/core/config-schema.js');
        const { getStage, STAGES, stageNames } = await import('../../stages/registry.js');
        if (name !== undefined) {
          const def = getStage(name);
          if (!def) throw new ConfigError(`unknown stage "${name}" (known: ${stageNames().join(', ')})`, ['unknown']);
          process.stdout.write(`${def.name} (${def.role}): ${def.summary}\n\n${def.doc ? `${def.doc}\n\n` : ''}${fieldsToMarkdown(def.fields)}\n`);
          return;
        }
        for (const d of STAGES.values()) process.stdout.write(`${d.name.padEnd(24)} ${d.role.padEnd(9)} ${d.summary}\n`);
      }),
};
