/** Test helpers shared by test/simulators. */
import type { Batch } from '../../stages/core/batch.js';
import type { StageDefinition } from '../../stages/core/stage.js';

/** A sink stage that appends every batch it sees to `into` and passes it on. */
export function collectingSink(into: Batch[]): StageDefinition {
  return {
    name: 'collect',
    role: 'sink',
    summary: 'test sink',
    fields: {},
    create: () => ({ process: (b: Batch) => (into.push(b), b) }),
  };
}
