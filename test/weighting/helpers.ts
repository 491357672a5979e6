/** Test helpers: a seeded generator, a stage context that records metrics, and a stage runner. */
import _ from 'highland';
import type { Batch } from '../../stages/core/batch.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { artifactMap } from '../../stages/core/artifacts.js';
import { applyStage } from '../../stages/core/stage-driver.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { AnyStageDefinition, StageContext, StageInstance } from '../../stages/core/stage.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { stageContext } from '../../pipelines/run-stage.js';

/** mulberry32: deterministic uniform numbers in [0, 1). */
export { mulberry32 as rng } from '../helpers/mulberry32.js';

/** A stage context recording metrics (the public builder, with this suite's run id, seed and artifacts). */
export function testCtx(entries: Map<string, unknown> = new Map()): StageContext & { metrics: MetricRecord[] } {
  return stageContext({ outDir: '/nonexistent', runId: 'test', seed: 3, logger: memoryLogger(), artifacts: artifactMap(entries) });
}

export function createStage(def: AnyStageDefinition, config: Record<string, unknown>, ctx: StageContext): StageInstance {
  return def.create(validateConfig(`stage "${def.name}"`, def.fields, config), ctx);
}

export function runInstance(inst: StageInstance, batches: Batch[]): Promise<Batch[]> {
  return new Promise((resolve, reject) => {
    applyStage(inst, _<Batch>(batches))
      .stopOnError((e: Error) => reject(e))
      .toArray((out: Batch[]) => resolve(out));
  });
}

/** An `examples`-like batch with the given rewards (and optional extra columns). */
export function rewardBatch(reward: ArrayLike<number>, extra: Batch['columns'] = {}): Batch {
  return { table: 'examples', numRows: reward.length, columns: { reward: Float32Array.from(reward), ...extra } };
}
