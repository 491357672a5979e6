/**
 * The stream stage around an offline objective: one transform stage per
 * objective, named after it. Input: batches with a reward column (usually
 * `examples`); output: `weighted_examples` with `weight` (float32) and, where
 * the objective defines them, `advantage` (float32) and `kept` (uint8 0/1).
 *
 * - Global statistics are read lazily at the first batch — from `stats_path`,
 *   or from the `reward_stats` artifact (published before the first batch when
 *   reward_stats runs with `barrier: true`).
 * - Each batch's diagnostics become metric records: split "batch", step = batch
 *   index, method = objective name, count = rows in the batch.
 * - getState/setState carry the objective's state (DRPO's P), the batch index
 *   and, for trajectory-level weighting from summed rewards, the rows of the
 *   trajectory held back at a batch boundary; a stage restored from the state
 *   after batch k weights batch k + 1 on exactly as an uninterrupted run does.
 */
import type { Batch, Column } from '../core/batch.js';
import { numericColumn } from '../core/batch.js';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import type { ObjectiveResult, OfflineObjective } from '../core/objective.js';
import { defineStage, type BatchStage, type ShardPlan, type StageContext, type StageDefinition } from '../core/stage.js';
import { ARTIFACT } from '../core/artifacts.js';
import { batchFromJson, batchToJson, type JsonBatch } from './batch-json.js';
import { resolveGlobals } from './global-stats.js';
import { toFloat64, toInt32 } from './numeric.js';
import type { OfflineObjectiveEntry, WeightingBatch } from './objective-types.js';
import { TrajectoryBuffer } from './trajectory-buffer.js';

/** Options every objective stage has, beyond the objective's own fields. */
const stageFields = {
  stats_path: {
    type: 'string',
    doc: 'A reward_stats.json to read the global statistics from, instead of the reward_stats artifact published earlier in the pipeline.',
  },
  reward_column: { type: 'string', default: 'reward', doc: 'Column holding the reward to weight by.' },
} as const satisfies Fields;

const trajectoryFields = {
  group_column: { type: 'string', doc: 'Trajectory key column (default: session_id if the batch has it, else user_id).' },
  return_source: {
    type: 'string',
    enum: ['auto', 'column', 'sum'],
    default: 'auto',
    doc: "auto: the return column when present, else sum; column: R(τ) from return_column; sum: R(τ) = Σ reward over the trajectory's rows (rows of a trajectory must be adjacent).",
  },
  return_column: { type: 'string', default: 'return', doc: 'Column holding R(τ) (split_sequences writes `return`).' },
} as const satisfies Fields;

const baselineFields = {
  baseline_column: { type: 'string', default: 'value', doc: 'Column holding the per-row baseline b(s) when baseline is "column".' },
} as const satisfies Fields;

/**
 * The validated configuration of an objective stage: the stage's own options
 * (trajectory and baseline options only on stages that have them) and the
 * objective's options, which the objective's factory validates and types.
 */
export type ObjectiveStageConfig = ConfigOf<typeof stageFields> &
  Partial<ConfigOf<typeof trajectoryFields>> &
  Partial<ConfigOf<typeof baselineFields>> & { [objectiveOption: string]: unknown };

/** The saved state of an objective stage. */
export interface ObjectiveStageState {
  batch_index: number;
  objective: unknown;
  /** Rows of an unfinished trajectory (trajectory-level stage, return_source sum). */
  held?: JsonBatch;
}

const OUTPUT_COLUMNS = ['weight', 'advantage', 'kept'];

/** Output batch: the input columns (stale weight columns dropped) plus the objective's columns. */
function withWeights(b: Batch, r: ObjectiveResult): Batch {
  const columns: Record<string, Column> = {};
  for (const [k, c] of Object.entries(b.columns)) if (!OUTPUT_COLUMNS.includes(k)) columns[k] = c;
  columns.weight = r.weight;
  if (r.advantage) columns.advantage = r.advantage;
  if (r.kept) columns.kept = r.kept;
  return { table: 'weighted_examples', numRows: b.numRows, columns, ...(b.meta ? { meta: b.meta } : {}) };
}

/** Build the stage definition of one objective. */
export function objectiveStage(name: string, entry: OfflineObjectiveEntry): StageDefinition<ObjectiveStageConfig> {
  const trajectory = entry.inputs?.group === true;
  const extra: Fields = { ...stageFields, ...(trajectory ? trajectoryFields : {}), ...(entry.inputs?.baseline ? baselineFields : {}) };
  const clash = Object.keys(extra).filter((k) => k in entry.fields);
  // A programming error in a registry entry, found when the registry loads.
  if (clash.length) throw new Error(`objective stage ${name}: objective fields clash with stage fields: ${clash.join(', ')}`);
  const check = entry.check;
  return defineStage<ObjectiveStageConfig>({
    name,
    role: 'transform',
    summary: entry.summary,
    doc: entry.doc,
    inputs: ['examples', 'weighted_examples'],
    output: 'weighted_examples',
    fields: { ...entry.fields, ...extra },
    ...(check ? { check: (config: ObjectiveStageConfig) => check(objectiveOptions(entry, config)) } : {}),
    shard: (config: ObjectiveStageConfig) => objectiveShardPlan(entry, config, trajectory),
    create(config, ctx) {
      return new ObjectiveStageInstance(name, entry, config, ctx, trajectory);
    },
  });
}

/** Statistics used only to probe whether an objective carries state (never to weigh). */
const PROBE_STATS = { count: 2, mean: 0, variance: 1, std: 1, min: -1, max: 1, quantiles: [], quantileRankError: 0, histogram: { edges: [], counts: [] } };

/**
 * Per part when the weights of a batch depend only on the batch and the global
 * statistics (passed from the coordinator): a stateless objective (initial
 * state null), not a trajectory stage summing rewards across batch boundaries.
 * DRPO's P and other carried state make the stage whole.
 */
function objectiveShardPlan(entry: OfflineObjectiveEntry, config: ObjectiveStageConfig, trajectory: boolean): ShardPlan | undefined {
  if (trajectory && config.return_source !== 'column') return undefined;
  try {
    if (entry.factory(objectiveOptions(entry, config), { rewardStats: PROBE_STATS }).initialState() !== null) return undefined;
  } catch {
    return undefined;
  }
  return { by: 'parts', artifacts: [ARTIFACT.rewardStats] };
}

/** The objective's own options out of a stage configuration. */
function objectiveOptions(entry: OfflineObjectiveEntry, config: ObjectiveStageConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(entry.fields)) if (config[k] !== undefined) out[k] = config[k];
  return out;
}

/**
 * Per-batch weighting. Trajectory-level stages with summed rewards hold back
 * each batch's last trajectory (it may continue in the next batch) and weigh
 * it with the next batch, or at finish.
 */
class ObjectiveStageInstance implements BatchStage {
  private objective: OfflineObjective | undefined;
  private objState: unknown;
  private restoredObjState: unknown;
  private batchIndex = 0;
  private readonly objConfig: Record<string, unknown>;
  private readonly buffer: TrajectoryBuffer | undefined;
  /** Where R(τ) comes from, once known (trajectory stages; `auto` resolves at the first batch). */
  private returnSource: 'column' | 'sum' | undefined;
  private readonly rewardColumn: string;
  private readonly useBaseline: boolean;

  constructor(
    private readonly name: string,
    private readonly entry: OfflineObjectiveEntry,
    private readonly config: ObjectiveStageConfig,
    private readonly ctx: StageContext,
    private readonly trajectory: boolean,
  ) {
    this.objConfig = objectiveOptions(entry, config);
    this.rewardColumn = config.reward_column;
    this.useBaseline = entry.inputs?.baseline?.(this.objConfig) ?? false;
    if (trajectory) {
      this.buffer = new TrajectoryBuffer((b) => this.groupOf(b), name);
      if (config.return_source !== undefined && config.return_source !== 'auto') this.returnSource = config.return_source;
    }
  }

  process(b: Batch): Batch | undefined {
    if (!this.buffer) return this.weighBatch(b);
    this.returnSource ??= (this.config.return_column ?? 'return') in b.columns ? 'column' : 'sum';
    if (this.returnSource === 'column') return this.weighBatch(b);
    const ready = this.buffer.push(b);
    return ready ? this.weighBatch(ready) : undefined;
  }

  finish(): Batch | undefined {
    const rest = this.buffer?.flush();
    return rest ? this.weighBatch(rest) : undefined;
  }

  getState(): ObjectiveStageState {
    const held = this.buffer?.held();
    return {
      batch_index: this.batchIndex,
      objective: this.objective ? this.objState : (this.restoredObjState ?? null),
      ...(held ? { held: batchToJson(held) } : {}),
    };
  }

  setState(state: unknown): void {
    const s = state as ObjectiveStageState;
    if (typeof s !== 'object' || s === null || !Number.isInteger(s.batch_index) || s.batch_index < 0) {
      throw new ConfigError(`${this.name}: invalid saved state (expected { batch_index, objective })`, ['state']);
    }
    this.batchIndex = s.batch_index;
    const objective = structuredClone(s.objective);
    if (this.objective) {
      checkObjectiveState(this.name, this.objective.initialState(), objective);
      this.objState = objective;
    } else this.restoredObjState = objective;
    this.buffer?.restore(s.held ? batchFromJson(s.held) : undefined);
  }

  /** Create the objective at the first batch (global statistics are complete by then). */
  private ensureObjective(): OfflineObjective {
    if (this.objective) return this.objective;
    const globals = resolveGlobals(this.config.stats_path, this.ctx.artifacts);
    const obj = this.entry.factory(this.objConfig, globals);
    if (this.restoredObjState !== undefined && this.restoredObjState !== null) {
      checkObjectiveState(this.name, obj.initialState(), this.restoredObjState);
      this.objState = this.restoredObjState;
    } else this.objState = obj.initialState();
    this.objective = obj;
    return obj;
  }

  private groupOf(b: Batch): Int32Array {
    const name = this.config.group_column ?? ('session_id' in b.columns ? 'session_id' : 'user_id');
    return toInt32(numericColumn(b, name), name);
  }

  private weighBatch(b: Batch): Batch {
    const obj = this.ensureObjective();
    const where = `${this.name}: batch ${this.batchIndex}`;
    let input: WeightingBatch;
    try {
      input = { reward: toFloat64(numericColumn(b, this.rewardColumn)) };
      if (this.trajectory) {
        if (this.returnSource === 'column') input.trajectoryReturn = toFloat64(numericColumn(b, this.config.return_column ?? 'return'));
        else input.group = this.groupOf(b);
      }
      if (this.useBaseline) input.baseline = toFloat64(numericColumn(b, this.config.baseline_column ?? 'value'));
    } catch (e) {
      // A missing or non-numeric column: the pipeline names a column the data lacks.
      throw new ConfigError(`${where}: ${(e as Error).message}`, ['column']);
    }
    let out: { result: ObjectiveResult; state: unknown };
    try {
      out = obj.weigh(input, this.objState);
    } catch (e) {
      if ((e as Error).name === 'ConfigError') throw e;
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    this.objState = out.state;
    this.emitDiagnostics(b, out.result.diagnostics);
    this.batchIndex++;
    return withWeights(b, out.result);
  }

  private emitDiagnostics(b: Batch, d: Record<string, number>): void {
    const epoch = typeof b.meta?.epoch === 'number' ? b.meta.epoch : 0;
    for (const [metric, value] of Object.entries(d)) {
      if (!Number.isFinite(value)) continue;
      this.ctx.emitMetric({ method: this.name, seed: this.ctx.seed, step: this.batchIndex, epoch, split: 'batch', metric, value, count: b.numRows });
    }
  }
}

/** A restored objective state must have the shape of a fresh one (same keys, same value types). */
function checkObjectiveState(name: string, fresh: unknown, saved: unknown): void {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(fresh) !== kind(saved)) throw new ConfigError(`${name}: saved objective state is ${kind(saved)}, expected ${kind(fresh)}`, ['state']);
  if (kind(fresh) === 'object') {
    const f = fresh as Record<string, unknown>;
    const s = saved as Record<string, unknown>;
    for (const k of Object.keys(f)) {
      if (kind(f[k]) !== kind(s[k])) throw new ConfigError(`${name}: saved objective state field "${k}" is ${kind(s[k])}, expected ${kind(f[k])}`, ['state']);
    }
  }
}
