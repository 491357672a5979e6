/**
 * Checks, before anything runs, that each stage accepts the table the stage
 * before it emits (the `inputs` and `output` each definition declares).
 *
 * What flows out of a stage: a source's or transform's declared `output`; a
 * transform without one, and every sink, passes its input table on. A source
 * after the first stage starts a new phase, so its input is not checked. A
 * sink is not checked either: it passes every batch on and reads only the
 * tables it knows (the report sinks also read the run's records), so a sink
 * after a trainer is fine. An
 * undeclared table (a Parquet reader without `table`) is not checked either.
 * `weighted_examples` is `examples` plus weight columns, so a stage that reads
 * `examples` also reads `weighted_examples`.
 */
import type { TableName } from '../stages/core/batch.js';
import type { StageDefinition } from '../stages/core/stage.js';

interface TableCheckedStage {
  index: number;
  id: string;
  def: Pick<StageDefinition<never>, 'name' | 'role' | 'inputs' | 'output'>;
}

/** Tables that are another table plus columns (and so acceptable wherever that one is). */
const EXTENDS: Readonly<Record<string, TableName>> = { weighted_examples: 'examples' };

function accepts(inputs: readonly TableName[], table: TableName): boolean {
  for (let t: TableName | undefined = table; t !== undefined; t = EXTENDS[t]) if (inputs.includes(t)) return true;
  return false;
}

function describe(s: TableCheckedStage): string {
  return `stages[${s.index}] (stage "${s.def.name}"${s.id !== s.def.name ? `, id "${s.id}"` : ''})`;
}

/** One message per stage whose declared inputs do not include the table the previous stage emits. */
export function checkStageTables(stages: readonly TableCheckedStage[]): string[] {
  const problems: string[] = [];
  let flowing: { table: TableName; from: TableCheckedStage } | undefined;
  for (const s of stages) {
    if (s.def.role === 'source') {
      flowing = s.def.output ? { table: s.def.output, from: s } : undefined;
      continue;
    }
    if (s.def.role === 'transform' && flowing && s.def.inputs?.length && !accepts(s.def.inputs, flowing.table)) {
      problems.push(
        `${describe(s)} reads ${s.def.inputs.join(' or ')}, but ${describe(flowing.from)} emits ${flowing.table}` +
          ` (put a stage that turns ${flowing.table} into ${s.def.inputs[0]} between them, or reorder the stages)`,
      );
    }
    if (s.def.role === 'transform' && s.def.output) flowing = { table: s.def.output, from: s };
  }
  return problems;
}
