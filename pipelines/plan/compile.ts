/**
 * The plan compiler: turns a resolved pipeline into steps. A run of
 * consecutive stages that can run sharded (stage definitions' `shard` plans,
 * stages/core/stage.ts) is fused into one sharded step: every shard streams
 * its share of the input parts through all of them with the stage driver.
 * Every other stage runs whole, in the coordinator, as the streaming runner
 * runs it. A combine stage ends its step (later stages need the merged
 * result), and so does anything before a stage that is not shardable.
 *
 * Between steps, a stream a later stage needs is materialised as an
 * intermediate dataset under `<out_dir>/.recpost/steps/<step id>/`; a step id
 * is `<first stage index>-<stage>-<hash>`, the hash covering the seed and the
 * configuration of every stage up to the step's end, so a changed upstream
 * gives new names and a rerun of the same pipeline finds the same ones.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ShardPlan } from '../../stages/core/stage.js';
import type { ResolvedPipeline, ResolvedStage } from '../spec.js';

export interface WholeStep {
  kind: 'whole';
  id: string;
  stages: ResolvedStage[];
  /** The stream out of the last stage is read by the next step (materialise it). */
  outputNeeded: boolean;
  /** The first stage evaluates per checkpoint on the engine before the step runs here (checkpoint-step.ts). */
  checkpoints?: boolean;
}

export interface ShardedStep {
  kind: 'sharded';
  id: string;
  stages: ResolvedStage[];
  plans: ShardPlan[];
  /** The first stage is a source reading the dataset named by this option. */
  sourceOption?: string;
  outputNeeded: boolean;
  /** Every stage passes its input on unchanged (a source's reads, reward_stats): the next step reads this step's input, no copy is written. */
  outputIsInput: boolean;
}

export type PlanStep = WholeStep | ShardedStep;

export interface CompileOptions {
  /** Run `ranges` sources (ingest) as their own flows (an engine run); otherwise they run whole (static sharding). */
  ranges?: boolean;
  /** Run `user_bucket` stages per user bucket (an engine run); otherwise they run whole (static sharding). */
  buckets?: boolean;
}

/** A stage's shard plan for its configuration (undefined: whole). */
export function stagePlan(rs: ResolvedStage, o: CompileOptions = {}): ShardPlan | undefined {
  const s = rs.def.shard;
  const plan = typeof s === 'function' ? s(rs.config) : s;
  // Evaluation per checkpoint starts a whole step of its own (compilePlan; checkpoint-step.ts), not a sharded one.
  if (!plan || plan.by === 'checkpoint_parts') return undefined;
  // A bucketed stage starts a step; the runner shards it per bucket when its input is the ingest's bucketed dataset, else runs it whole.
  if (plan.by === 'user_bucket') return o.buckets && rs.def.role === 'transform' ? plan : undefined;
  if (plan.by === 'ranges') return o.ranges && rs.def.role === 'source' ? plan : undefined;
  if (rs.def.role === 'source' && (plan.by !== 'parts' || !plan.input)) return undefined;
  return plan;
}

/** Whether a stage declares evaluation per checkpoint × data part. */
function checkpointPlan(rs: ResolvedStage): boolean {
  const s = rs.def.shard;
  return (typeof s === 'function' ? s(rs.config) : s)?.by === 'checkpoint_parts';
}

/** Short hex hash of a JSON value (stable: keys sorted). */
export function configHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 12);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function compilePlan(p: ResolvedPipeline, o: CompileOptions = {}): PlanStep[] {
  const steps: { kind: 'whole' | 'sharded'; stages: ResolvedStage[]; plans: ShardPlan[]; checkpoints?: boolean }[] = [];
  let current: (typeof steps)[number] | undefined;
  for (const rs of p.stages) {
    const plan = stagePlan(rs, o);
    if (o.buckets && rs.def.role === 'transform' && checkpointPlan(rs)) {
      current = { kind: 'whole', stages: [rs], plans: [], checkpoints: true };
      steps.push(current);
      continue;
    }
    const startsNew =
      !current ||
      (plan ? current.kind !== 'sharded' : current.kind !== 'whole') ||
      // A source or a bucketed stage starts a new step (per-part stages after a bucketed one run in its shards); a combine ends its step.
      (plan && (rs.def.role === 'source' || plan.by === 'user_bucket')) ||
      (current.kind === 'sharded' && ['combine', 'ranges'].includes(current.plans[current.plans.length - 1]!.by));
    if (startsNew) {
      current = { kind: plan ? 'sharded' : 'whole', stages: [], plans: [] };
      steps.push(current);
    }
    current!.stages.push(rs);
    if (plan) current!.plans.push(plan);
  }
  const upstream: unknown[] = [p.seed];
  return steps.map((s, i) => {
    for (const rs of s.stages) upstream.push({ stage: rs.def.name, with: rs.config });
    const first = s.stages[0]!;
    const id = `${first.index}-${first.def.name}-${configHash(upstream)}`;
    const next = steps[i + 1]?.stages[0];
    const outputNeeded = next !== undefined && next.def.role !== 'source';
    if (s.kind === 'whole') return { kind: 'whole', id, stages: s.stages, outputNeeded, ...(s.checkpoints ? { checkpoints: true } : {}) };
    const sourceOption = first.def.role === 'source' ? s.plans[0]!.input : undefined;
    const outputIsInput = s.plans.every((pl, j) => pl.passThrough === true || (j === 0 && sourceOption !== undefined && !pl.outputs?.length));
    return { kind: 'sharded', id, stages: s.stages, plans: s.plans, outputNeeded, outputIsInput, ...(sourceOption ? { sourceOption } : {}) };
  });
}

/** Where a run keeps its steps' shard areas and intermediate datasets. */
export function stepsDir(outDir: string): string {
  return path.join(outDir, '.recpost', 'steps');
}

/** One line per step, for `--dry-run`-style listings and errors. */
export function describePlan(steps: PlanStep[]): string {
  return steps.map((s) => `${s.id}: ${s.kind} [${s.stages.map((r) => r.id).join(' → ')}]${s.outputNeeded ? ' → materialised' : ''}`).join('\n');
}

/**
 * Whether an engine run of this plan has work for worker processes: a sharded
 * step other than a bucketed one whose input cannot be bucketed (no ingest
 * with user_buckets > 1 before it: such a step runs whole in the coordinator).
 */
export function shardsWork(p: ResolvedPipeline, steps: PlanStep[]): boolean {
  return steps.some((s) => {
    if (s.kind === 'whole') return s.checkpoints === true;
    if (s.plans[0]!.by !== 'user_bucket') return true;
    const at = s.stages[0]!.index;
    return p.stages.some((rs) => rs.index < at && rs.def.name === 'ingest' && Number(rs.config.user_buckets ?? 1) > 1);
  });
}
