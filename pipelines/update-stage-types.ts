/** Regenerates pipelines/stage-options.ts (the option types of every stage, objective and shaper) from the registries. */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STAGES } from '../stages/registry.js';
import { GROUP_SHAPERS, OFFLINE_OBJECTIVES } from '../stages/weighting/registry.js';
import { renderStageTypes } from './stage-types.js';

/** The current text of stage-options.ts, from the registries as they are now. */
export function currentStageTypes(): string {
  return renderStageTypes({ stages: STAGES.values(), objectives: OFFLINE_OBJECTIVES, shapers: GROUP_SHAPERS });
}

export const STAGE_TYPES_FILE = fileURLToPath(new URL('./stage-options.ts', import.meta.url).href.replace(/\/dist\/pipelines\//, '/pipelines/'));

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  fs.writeFileSync(STAGE_TYPES_FILE, currentStageTypes());
  process.stderr.write(`wrote ${STAGE_TYPES_FILE}\n`);
}
