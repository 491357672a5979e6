import { describe, expect, it } from 'vitest';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { generateRecSimWorld } from '../../stages/simulators/recsim-generate.js';
import { RecSimLogger } from '../../stages/simulators/recsim-log.js';
import { recsimLogParams, recsimOptionFields, recsimWorldParams, resolveRecSimOptions, type RecSimOptions } from '../../stages/simulators/recsim-options.js';

const SMALL: Partial<RecSimOptions> = { num_users: 200, num_items: 300, dim: 8, topics: 5, interactions_per_user: 20 };

function log(over: Partial<RecSimOptions>, dropPolicyNoise = false) {
  const o = resolveRecSimOptions('medium', { ...SMALL, ...over });
  const world = generateRecSimWorld(recsimWorldParams(o, 3));
  const params = recsimLogParams(o, 3);
  if (dropPolicyNoise) delete params.policyNoise;
  const logger = new RecSimLogger(world, params);
  return { all: concatBatches([...logger.batches(1000)]), logger };
}

const bytes = (b: Batch, name: string) => Buffer.from((b.columns[name] as ArrayLike<number> & { buffer: ArrayBuffer }).buffer);

describe('RecSim policy noise (paper 002 Table 6)', () => {
  it('defaults to 0 for the shipped presets and is documented', () => {
    expect(resolveRecSimOptions('medium', SMALL).policy_noise).toBe(0);
    expect(resolveRecSimOptions('extreme', { policy_noise: 0.5 }).policy_noise).toBe(0.5);
    expect(recsimOptionFields.policy_noise!.doc).toMatch(/Table 6/);
  });

  it('policy_noise 0 reproduces the log without the option bit for bit', () => {
    const a = log({ policy_noise: 0 }).all;
    const b = log({}, true).all;
    for (const c of ['user_id', 'item_id', 'timestamp', 'reward', 'policy']) expect(bytes(a, c).equals(bytes(b, c))).toBe(true);
  });

  it('a noisier expert logs lower true reward on its rows', () => {
    const clean = log({ policy_noise: 0 }).logger.stats;
    const noisy = log({ policy_noise: 1 }).logger.stats;
    const expertMean = (s: typeof clean) => s.latentSum[0]! / s.policyRows[0]!;
    expect(expertMean(noisy)).toBeLessThan(expertMean(clean) - 0.05);
    expect(noisy.rows).toBe(clean.rows);
    // The popularity rows are drawn as before (their mean true reward is that of the clean log within noise).
    const popMean = (s: typeof clean) => s.latentSum[1]! / s.policyRows[1]!;
    expect(Math.abs(popMean(noisy) - popMean(clean))).toBeLessThan(0.03);
  });

  it('rejects a negative policy_noise naming the field', () => {
    expect(() => resolveRecSimOptions('medium', { ...SMALL, policy_noise: -0.1 })).toThrow(/policy_noise/);
  });
});
