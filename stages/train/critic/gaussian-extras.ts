/**
 * What train_gaussian adds to the plain weighted NLL for the value-based
 * baselines and the offline-to-online mix: the critic a critic-based
 * objective asks for (fitted here on the logged train rows, before the
 * policy), BPPO's proximal update, and the world the online rows come from.
 */
import { ConfigError } from '../../core/config-schema.js';
import type { StageContext } from '../../core/stage.js';
import type { RecSimWorld } from '../../simulators/recsim-world.js';
import { OFFLINE_OBJECTIVES } from '../../weighting/registry.js';
import type { GaussianData, GaussianTaskExtras } from '../gaussian-task.js';
import { objectiveParts, type TrainerRun } from '../stage-support.js';
import type { ObjectiveConfig } from '../trainer-options.js';
import { fitCritic } from './critic.js';
import { CriticInputs } from './critic-inputs.js';

export function fitGaussianExtras(
  cfg: ObjectiveConfig & { online_ratio: number },
  ctx: Pick<StageContext, 'log' | 'emitMetric'>,
  run: TrainerRun,
  catalog: { world: RecSimWorld; embeddings: Float32Array },
  data: GaussianData,
  remapped: boolean,
): GaussianTaskExtras | undefined {
  const { name, options } = objectiveParts(cfg.objective, run.stage);
  const entry = OFFLINE_OBJECTIVES[name]!;
  const full = { ...defaultsOf(entry.fields), ...options };
  const request = entry.inputs?.critic?.(full);
  const proximal = entry.inputs?.proximal?.(full);
  if (!request && !proximal && cfg.online_ratio === 0) return undefined;
  if (cfg.online_ratio > 0 && remapped)
    throw new ConfigError(`${run.stage}: online_ratio needs the simulator's own user and item ids (the log was remapped through a vocabulary)`, [
      'online_ratio',
    ]);
  const extras: GaussianTaskExtras = { seed: run.seed };
  if (request) {
    const t0 = performance.now();
    const fit = fitCritic(data, catalog.embeddings, {
      hidden: request.hidden,
      epochs: request.epochs,
      batchSize: request.batchSize,
      lr: request.lr,
      tau: request.tau,
      targetRate: request.targetRate,
      seed: run.seed,
    });
    extras.critic = new CriticInputs(fit.critic, data, catalog.embeddings, request.baseline, request.samples);
    ctx.log.info(
      `${run.label}: critic fitted in ${((performance.now() - t0) / 1000).toFixed(1)} s (${fit.steps} steps, τ = ${request.tau}): Q mse ${fit.qLoss.toFixed(5)}, V expectile loss ${fit.vLoss.toFixed(5)}`,
    );
    ctx.emitMetric({ method: run.method, seed: run.seed, step: 0, epoch: 0, split: 'train', metric: 'critic_q_mse', value: fit.qLoss, count: data.numRows });
    ctx.emitMetric({ method: run.method, seed: run.seed, step: 0, epoch: 0, split: 'train', metric: 'critic_v_loss', value: fit.vLoss, count: data.numRows });
  }
  if (proximal) extras.proximal = proximal;
  if (cfg.online_ratio > 0) extras.online = { world: catalog.world, ratio: cfg.online_ratio };
  return extras;
}

/** The defaults of an objective's fields (the stage's `objective` option holds only what the pipeline wrote). */
function defaultsOf(fields: Record<string, { default?: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).flatMap(([k, f]) => (f.default === undefined ? [] : [[k, f.default]])));
}
