/**
 * Inside a worker thread: the task (model replica + loss) a WorkerTaskSpec
 * describes. The replica's initial values do not matter: the trainer sends
 * the current parameters before every gradient.
 */
import type { OfflineTask, PreparedBatch } from '../offline-trainer.js';
import { createSasrecParams } from '../sasrec.js';
import { sasrecTask } from '../sasrec-task.js';
import type { SequenceSet } from '../sequence-data.js';
import type { WorkerTaskSpec } from './task-spec.js';

export function buildWorkerTask(spec: WorkerTaskSpec): OfflineTask<PreparedBatch> {
  switch (spec.kind) {
    case 'sasrec': {
      const params = createSasrecParams(spec.config, 0);
      // The loss reads only the target counts (sampled softmax); rows arrive prepared.
      const data: SequenceSet = {
        offsets: new Int32Array(1),
        items: new Int32Array(0),
        rewards: new Float32Array(0),
        targetFrom: new Int32Array(0),
        users: new Int32Array(0),
        numRows: 0,
        numTargets: 0,
        numItemsSeen: spec.config.numItems,
        targetCounts: spec.targetCounts,
      };
      return sasrecTask(params, spec.config, data, spec.options) as unknown as OfflineTask<PreparedBatch>;
    }
    default:
      throw new Error(`data-parallel training: no worker task of kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}
