/** The Gaussian embedding policy's configuration in checkpoint.json (kind "gaussian"), read validated and typed. */
import type { GaussianConfig } from './gaussian-policy.js';
import type { ModelConfigCodec, StoredModel } from './model-entry.js';
import { ModelConfigReader } from './model-config-reader.js';

export const GAUSSIAN_KIND = 'gaussian';

export const gaussianConfigCodec: ModelConfigCodec<GaussianConfig> = {
  read(json, where) {
    const r = new ModelConfigReader(json, where);
    // Fields in the order GaussianConfig declares them: checkpoint.json keeps that order.
    const config: GaussianConfig = {
      numItems: r.integer('numItems', 2),
      dim: r.integer('dim', 1),
      hidden: r.integers('hidden', 1),
      sigma: r.oneOf('sigma', ['fixed', 'learned'] as const),
      sigmaInit: r.number('sigmaInit', { exclusiveMin: 0 }),
      logSigmaMin: r.number('logSigmaMin'),
      logSigmaMax: r.number('logSigmaMax'),
    };
    if (!(config.logSigmaMin < config.logSigmaMax)) r.invalid('logSigmaMin', `(${config.logSigmaMin}) must be below logSigmaMax (${config.logSigmaMax})`);
    return config;
  },
  write: (config) => ({ ...config }),
};

/** What a Gaussian-policy checkpoint records about its model. */
export function gaussianStored(config: GaussianConfig): StoredModel {
  return { kind: GAUSSIAN_KIND, config: gaussianConfigCodec.write(config) };
}
