/** The sequence model's configuration in checkpoint.json (kind "sasrec"), read validated and typed. */
import type { ModelConfigCodec, StoredModel } from './model-entry.js';
import { ModelConfigReader } from './model-config-reader.js';
import type { SasrecConfig } from './sasrec.js';

export const SASREC_KIND = 'sasrec';

export const sasrecConfigCodec: ModelConfigCodec<SasrecConfig> = {
  read(json, where) {
    const r = new ModelConfigReader(json, where);
    // Fields in the order SasrecConfig declares them: checkpoint.json keeps that order.
    const config: SasrecConfig = {
      numItems: r.integer('numItems', 2),
      maxLen: r.integer('maxLen', 1),
      d: r.integer('d', 1),
      blocks: r.integer('blocks', 0),
      heads: r.integer('heads', 1),
      ffn: r.integer('ffn', 1),
      dropout: r.number('dropout', { min: 0, exclusiveMax: 1 }),
      rewardHead: r.boolean('rewardHead'),
      rewardHidden: r.integer('rewardHidden', 1),
    };
    if (config.d % config.heads !== 0) r.invalid('heads', `(${config.heads}) must divide d (${config.d})`);
    return config;
  },
  write: (config) => ({ ...config }),
};

/** What a sequence-model checkpoint records about its model. */
export function sasrecStored(config: SasrecConfig): StoredModel {
  return { kind: SASREC_KIND, config: sasrecConfigCodec.write(config) };
}
