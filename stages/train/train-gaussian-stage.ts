/**
 * train_gaussian: the Gaussian embedding policy (paper 002) on a RecSim log
 * under any offline objective (BC, AWR, DRPO, DRPO-Exp, …).
 */
import { ARTIFACT } from '../core/artifacts.js';
import type { Batch } from '../core/batch.js';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import { defineStage, type StageContext } from '../core/stage.js';
import { formatCount } from '../core/progress.js';
import { RecSimWorld } from '../simulators/recsim-world.js';
import { readDenseToRaw } from '../simulators/dense-truth.js';
import { vocabFiles } from '../simulators/truth.js';
import { readCheckpoint } from './checkpoint.js';
import { ITEM_EMBEDDINGS_NAME, type GaussianConfig } from './gaussian-policy.js';
import { gaussianModel } from './gaussian-model.js';
import { GaussianCollector } from './gaussian-task.js';
import { trainOffline } from './offline-trainer.js';
import { gaussianTrajectoryInput } from './trajectory-input.js';
import {
  buildObjective,
  describeCheckpoint,
  offlineTrainerOptions,
  offlineTrainerRun,
  resolveInit,
  resolveResume,
  trainerHooks,
  trainerStage,
} from './stage-support.js';
import { commonTrainFields, earlyStoppingFields, earlyStoppingProblems, earlyStoppingRule, lrScheduleProblems, objectiveFields } from './trainer-options.js';
import { gaussianMeanNll } from './gaussian-validation.js';
import { fitGaussianExtras } from './critic/gaussian-extras.js';

const trainGaussianFields = {
  ...objectiveFields('bc'),
  world: { type: 'string', doc: 'RecSim world directory (default: the `simulator` artifact of simulate_recsim).' },
  vocab: { type: 'string', doc: 'Vocabulary directory when ids were remapped by ingest (default: the `vocab` artifact, if any).' },
  ...commonTrainFields({ epochs: 20, batchSize: 320, lr: 3e-4 }),
  hidden: {
    type: 'array',
    items: { type: 'integer', min: 1, doc: 'width' },
    default: [128, 128],
    doc: 'Hidden layer widths of the MLP μ(s) (paper 002 App. J: 2 × 128).',
  },
  sigma: {
    type: 'string',
    enum: ['fixed', 'learned'],
    default: 'learned',
    doc: 'σ fixed at sigma_init, or learned (one log σ, clipped to [sigma_min, sigma_max]).',
  },
  sigma_init: { type: 'number', exclusiveMin: 0, default: 0.5, doc: 'σ (fixed) or its initial value (learned).' },
  sigma_min: { type: 'number', exclusiveMin: 0, default: 1e-3, doc: 'Lower clip of a learned σ.' },
  sigma_max: { type: 'number', exclusiveMin: 0, default: 10, doc: 'Upper clip of a learned σ.' },
  phantom_every: { type: 'integer', min: 0, default: 10, doc: 'Measure the phantom gradient of rejected examples every this many steps (0 = never).' },
  valid_every: {
    type: 'integer',
    min: 0,
    default: 0,
    doc: 'Every this many epochs, emit the mean −log π of the validation examples (split "valid", metric nll); 0 = never.',
  },
  ...earlyStoppingFields(['nll'] as const),
  online_ratio: {
    type: 'number',
    min: 0,
    max: 1,
    default: 0,
    doc: 'Offline-to-online (paper 002 Fig. 4 / Table 3): this fraction of every minibatch is replaced by fresh interactions the current policy collects from the RecSim world (logged context, item drawn from π(·|s), observed reward of Eq. 49); 0 = offline only.',
  },
} as const satisfies Fields;

export type TrainGaussianConfig = ConfigOf<typeof trainGaussianFields>;

/** The catalog's embeddings in the pipeline's item ids (through the vocabulary when ids were remapped). */
export async function catalogEmbeddings(
  worldDir: string | undefined,
  vocab: string | undefined,
  ctx: Pick<StageContext, 'artifacts'>,
  stage: string,
): Promise<{ world: RecSimWorld; embeddings: Float32Array; numItems: number; dim: number; note: string }> {
  let dir = worldDir;
  if (!dir) {
    const sim = ctx.artifacts.get(ARTIFACT.simulator);
    if (sim?.kind === 'recsim' && typeof sim.dir === 'string') dir = sim.dir;
  }
  if (!dir)
    throw new ConfigError(`${stage}: needs a RecSim world: run simulate_recsim earlier in the pipeline or set \`world\` to its world directory`, ['world']);
  const world = await RecSimWorld.load(dir);
  const d = world.dim;
  const files = vocabFiles(vocab ?? ctx.artifacts.get(ARTIFACT.vocab));
  if (!files) return { world, embeddings: world.itemEmbeddings, numItems: world.numItems, dim: d, note: `item embeddings from ${dir}` };
  const table = await readDenseToRaw(files.items);
  const emb = new Float32Array(table.length * d);
  for (let i = 1; i < table.length; i++) {
    const raw = table[i]!;
    if (raw >= 1 && raw < world.numItems) emb.set(world.itemEmbeddings.subarray(raw * d, raw * d + d), i * d);
  }
  return { world, embeddings: emb, numItems: table.length, dim: d, note: `item embeddings from ${dir}, ids mapped through ${files.items}` };
}

export const trainGaussianStage = defineStage({
  name: 'train_gaussian',
  role: 'transform',
  summary:
    'Train the Gaussian embedding policy (paper 002) on a RecSim log under an offline objective (BC, AWR, DRPO, …); checkpoints + training records; passes the input on.',
  doc: [
    'State = mean embedding of the context items; μ(s) = MLP (hidden, ReLU); log π(a|s) = −‖e_a − μ‖²/(2σ²) − d·log σ with σ fixed or learned;',
    "minimises −(1/N) Σ w·log π with the objective's weights. Greedy actions are the items with the highest ⟨e_i, μ(s)⟩. The world comes from the",
    '`simulator` artifact of simulate_recsim or the `world` option; the catalog embeddings are stored in the checkpoint.',
  ].join(' '),
  inputs: ['examples'],
  output: 'examples',
  fields: trainGaussianFields,
  check: (cfg) => [
    ...(cfg.sigma_min < cfg.sigma_max ? [] : [`sigma_min (${cfg.sigma_min}) must be below sigma_max (${cfg.sigma_max})`]),
    ...lrScheduleProblems(cfg),
    ...earlyStoppingProblems(cfg),
  ],
  create(cfg, ctx) {
    const run = offlineTrainerRun('train_gaussian', cfg, ctx);
    const { stage, method, seed, root, label } = run;
    const esRule = earlyStoppingRule(cfg.early_stopping);
    // With keep_last bounding the checkpoints, early stopping also keeps the best one.
    if (esRule && run.retention.keepLast > 0) run.retention.keepBest = Math.max(1, run.retention.keepBest);
    // The world (the catalog's embeddings) is loaded at training time, when every earlier stage has published; until then batches wait in `pending`.
    const pending: Batch[] = [];
    const prepare = () => ({ collector: { add: (b: Batch) => void pending.push(b) } });
    return trainerStage(cfg, ctx, run, prepare, async () => {
      const catalog = await catalogEmbeddings(cfg.world, cfg.vocab, ctx, stage);
      const collector = new GaussianCollector(catalog.embeddings, catalog.dim);
      const validCollector = cfg.valid_every > 0 ? new GaussianCollector(catalog.embeddings, catalog.dim, [1]) : undefined;
      for (const b of pending) {
        collector.add(b);
        validCollector?.add(b);
      }
      pending.length = 0;
      const data = collector.finish();
      const valid = validCollector?.finish();
      if (data.numItemsSeen > catalog.numItems)
        throw new ConfigError(`${stage}: item id ${data.numItemsSeen - 1} is outside the world's catalog (1..${catalog.numItems - 1})`, ['world']);
      const resumeDir = resolveResume(cfg, root, stage);
      const resume = resumeDir ? readCheckpoint(resumeDir) : undefined;
      const initDir = resume ? undefined : resolveInit(cfg.init, ctx, stage);
      const init = initDir ? readCheckpoint(initDir) : undefined;
      const fresh: GaussianConfig = {
        numItems: catalog.numItems,
        dim: catalog.dim,
        hidden: cfg.hidden,
        sigma: cfg.sigma,
        sigmaInit: cfg.sigma_init,
        logSigmaMin: Math.log(cfg.sigma_min),
        logSigmaMax: Math.log(cfg.sigma_max),
      };
      const from = resume ?? init;
      const stored = from ? gaussianModel.configOf(from.meta, `${stage}: checkpoint ${from.dir}`) : undefined;
      const config: GaussianConfig = stored ? (init ? { ...stored, sigma: cfg.sigma } : stored) : fresh;
      if (config.numItems !== catalog.numItems || config.dim !== catalog.dim)
        throw new ConfigError(
          `${stage}: checkpoint ${from!.dir} was trained on a catalog of ${config.numItems} × ${config.dim}, this world has ${catalog.numItems} × ${catalog.dim}`,
          ['init'],
        );
      const params = gaussianModel.createParams(config, seed);
      if (init) {
        const missing = params.loadSome(init.params, `init checkpoint ${initDir}`);
        if (missing.some((k) => k !== 'log_sigma'))
          throw new ConfigError(`${stage}: init checkpoint ${initDir} lacks parameters ${missing.join(', ')}`, ['init']);
        ctx.log.info(`${label}: initialised from ${describeCheckpoint(initDir!)}`);
      }
      if (resume) ctx.log.info(`${label}: resuming from ${describeCheckpoint(resumeDir!)}`);
      const objective = buildObjective(cfg.objective, cfg.stats_path, ctx, stage, () => gaussianTrajectoryInput(data));
      ctx.log.info(
        `${label}: ${formatCount(data.numRows)} train examples of ${formatCount(collector.examplesSeen)}; ${catalog.note}; d=${config.dim} hidden=[${config.hidden}] σ ${config.sigma}; ${Math.ceil(data.numRows / cfg.batch_size)} steps/epoch`,
      );
      const extras = fitGaussianExtras(cfg, ctx, run, catalog, data, Boolean(cfg.vocab ?? ctx.artifacts.get(ARTIFACT.vocab)));
      try {
        const result = await trainOffline(
          gaussianModel.task(params, config, data, { itemEmbeddings: catalog.embeddings, ...(extras ? { extras } : {}) }),
          objective,
          {
            ...offlineTrainerOptions(cfg, run, data),
            ...(esRule ? { earlyStopping: esRule } : {}),
            trainerConfig: { stage, objective: cfg.objective, ...(initDir ? { init: initDir } : {}) },
            extraArrays: [{ name: ITEM_EMBEDDINGS_NAME, shape: [catalog.numItems, catalog.dim], data: catalog.embeddings }],
          },
          {
            ...trainerHooks(ctx, run),
            onEpochEnd: (epoch, step) => {
              if (!(valid && valid.numRows > 0 && epoch % cfg.valid_every === 0)) return;
              const nll = gaussianMeanNll(params, config, valid, catalog.embeddings);
              ctx.emitMetric({ method, seed, step, epoch, split: 'valid', metric: 'nll', value: nll, count: valid.numRows });
              return nll;
            },
          },
          resume,
        );
        if (esRule && !valid?.numRows) ctx.log.warn(`${label}: early_stopping has no validation examples (split valid) to watch; every epoch was trained`);
        ctx.log.info(
          `${label}: ${result.stoppedEarly ? 'stopped' : result.earlyStopped ? 'stopped early' : 'done'} at step ${result.step}; ${result.checkpoints.length} checkpoint(s) under ${root}`,
        );
      } finally {
        params.dispose();
        extras?.critic?.critic.dispose();
      }
    });
  },
});
