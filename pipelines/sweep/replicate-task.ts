/**
 * Task kind `pipeline.run`: one replicate of a sweep (replicate.ts), run in a
 * worker process. Registered by the task catalog; the runner and the stages
 * are imported when a task arrives, so importing the catalog stays cheap.
 */
import { registerTaskKind } from '../engine/task-registry.js';
import type { ReplicateInput } from './replicate.js';

export const PIPELINE_RUN_TASK = 'pipeline.run';

registerTaskKind(PIPELINE_RUN_TASK, async (input, ctx) => {
  // Tells the coordinator this replicate is running now (engines report progress, not starts).
  ctx.progress({ message: 'started' });
  const { runReplicate } = await import('./replicate.js');
  return runReplicate(input as ReplicateInput, ctx.worker);
});
