/**
 * The registry entry of the SASRec-style sequence model (kind "sasrec"):
 * parameters (sasrec.ts), the policy evaluation loads (sasrec-policy.ts), the
 * online trainer's view (online-model.ts) and the offline task (sasrec-task.ts).
 */
import { defineModel, type ModelPolicy } from './model-entry.js';
import { sasrecOnlineModel } from './sasrec-online-model.js';
import { createSasrecParams, type SasrecConfig } from './sasrec.js';
import { SASREC_KIND, sasrecConfigCodec } from './sasrec-codec.js';
import { SasrecPolicy } from './sasrec-policy.js';
import { sasrecTask, type SasrecTaskOptions } from './sasrec-task.js';
import type { SequenceSet } from './sequence-data.js';

/** The policy without predictRewards, for a model trained without a reward head (evaluation then skips reward metrics). */
function withoutRewardHead(policy: SasrecPolicy): ModelPolicy {
  return {
    numItems: policy.numItems,
    scoreContexts: policy.scoreContexts.bind(policy),
    sample: policy.sample.bind(policy),
    logProbs: policy.logProbs.bind(policy),
    dispose: policy.dispose.bind(policy),
  };
}

export const sasrecModel = defineModel({
  kind: SASREC_KIND,
  codec: sasrecConfigCodec,
  numItems: (config: SasrecConfig) => config.numItems,
  maxContext: (config) => config.maxLen,
  createParams: createSasrecParams,
  hasRewardHead: (config, params) => config.rewardHead && params.has('reward/w1'),
  policy(config, ck) {
    const params = createSasrecParams(config, ck.meta.seed);
    params.load(ck.params, `checkpoint ${ck.dir}`);
    const policy = new SasrecPolicy(params, config);
    return policy.hasRewardHead ? policy : withoutRewardHead(policy);
  },
  onlineModel: (config) => ({ model: sasrecOnlineModel(config) }),
  task: (params, config, data: SequenceSet, options: SasrecTaskOptions) => sasrecTask(params, config, data, options),
});
