import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stages/core/config-schema.js';
import { resolvePipeline } from '../../pipelines/spec.js';

/** Validate a pipeline read_parquet → the stage; the message of the ConfigError, or 'ok'. */
function validate(stage: string, options: Record<string, unknown>): string {
  try {
    resolvePipeline({
      stages: [
        { stage: 'read_parquet', with: { path: 'examples.parquet' } },
        { stage, with: options },
      ],
    });
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

describe('trainer stages check related options at validation (before any data is read)', () => {
  const at = (stage: string) => `pipeline: stages[1] (stage "${stage}"): `;

  it('train_online: the shaper options are those of the shaper `algorithm` names, and none for PPO and DPO', () => {
    expect(validate('train_online', { algorithm: 'drro_soft', shaper: { tau: 2 } })).toBe('ok');
    expect(validate('train_online', { algorithm: 'grpo', shaper: { tau: 2 } })).toBe(
      `${at('train_online')}field "shaper.tau" is not an option of group shaper "grpo" (its options: kl_estimator)`,
    );
    expect(validate('train_online', { algorithm: 'ppo', shaper: { tau: 2 } })).toBe(
      `${at('train_online')}shaper options apply to grpo, drro_hard, drro_soft and dro, not ppo`,
    );
  });

  it('train_sasrec: heads divide d; train_gaussian: sigma_min < sigma_max', () => {
    expect(validate('train_sasrec', { d: 6, heads: 4 })).toBe(`${at('train_sasrec')}d (6) must be a multiple of heads (4)`);
    expect(validate('train_sasrec', { d: 8, heads: 4 })).toBe('ok');
    expect(validate('train_gaussian', { sigma_min: 2, sigma_max: 1 })).toBe(`${at('train_gaussian')}sigma_min (2) must be below sigma_max (1)`);
  });
});
