/**
 * A FlowSpec as a BullMQ flow: the shard tasks are leaf jobs, the merge is
 * the root job (a parent runs once all its children completed and reads
 * their results from Redis). With `treeFanIn`, intermediate merge jobs of
 * at most that many children sit in between, grouped exactly as the local
 * engine groups them (same keys: `<merge key>/tree-<depth>-<group>`). A flow
 * without a merge gets a `collect` root that returns the children's results
 * in order.
 *
 * Every job's id comes from its task key (jobIdFor), so the same flow
 * submitted twice in a run names the same jobs.
 */
import { createHash } from 'node:crypto';
import type { FlowJob, JobsOptions } from 'bullmq';
import { jobIdFor, type RedisJobData } from './redis-jobs.js';
import type { FlowSpec, TaskSpec } from './task.js';

export interface FlowJobSettings {
  queue: string;
  runId: string;
  attempts: number;
  /** First retry delay (ms), doubled at each further attempt. */
  backoffMs: number;
}

export interface BuiltFlow {
  tree: FlowJob;
  rootId: string;
  /** Jobs that count in progress (shards and merge nodes; not a collect root), in submission order. */
  countedIds: string[];
  /** Every job id of the flow, root included. */
  allIds: string[];
}

/** The key of the collect root of a flow without a merge: a hash of its children's keys. */
export function collectKey(children: TaskSpec[]): string {
  const h = createHash('sha256');
  for (const c of children) h.update(c.key).update('\n');
  return `collect/${h.digest('hex').slice(0, 16)}`;
}

export function buildFlow(flow: FlowSpec, s: FlowJobSettings): BuiltFlow {
  if (flow.children.length === 0) throw new RangeError(`flow "${flow.label}" has no tasks`);
  const retry: JobsOptions = { attempts: s.attempts, backoff: { type: 'exponential', delay: s.backoffMs } };
  // A child that fails for good fails its parent at once (default: the parent would wait forever);
  // children's results live on in the parent's processed set, so the child jobs themselves can go.
  const childOpts: JobsOptions = { ...retry, failParentOnFailure: true, removeOnComplete: true, removeOnFail: { count: 1000 } };
  const countedIds: string[] = [];
  const allIds: string[] = [];
  const node = (task: TaskSpec, extra: Omit<RedisJobData, 'task'>, opts: JobsOptions, children?: FlowJob[]): FlowJob => {
    const jobId = jobIdFor(s.runId, task.key);
    allIds.push(jobId);
    const data: RedisJobData = { task, ...extra };
    return { name: task.kind, queueName: s.queue, data, opts: { ...opts, jobId }, ...(children ? { children } : {}) };
  };
  let level = flow.children.map((t) => {
    const n = node(t, {}, childOpts);
    countedIds.push(n.opts!.jobId!);
    return n;
  });
  const merge = flow.merge;
  const fanIn = flow.treeFanIn;
  let depth = 0;
  while (merge && fanIn && fanIn >= 2 && level.length > fanIn) {
    const next: FlowJob[] = [];
    const d = depth++;
    for (let i = 0, g = 0; i < level.length; i += fanIn, g++) {
      const group = level.slice(i, i + fanIn);
      const task: TaskSpec = { kind: merge.kind, key: `${merge.key}/tree-${d}-${g}`, input: merge.input };
      const n = node(task, { children: group.map((c) => c.opts!.jobId!), partial: true }, childOpts, group);
      countedIds.push(n.opts!.jobId!);
      next.push(n);
    }
    level = next;
  }
  const childIds = level.map((c) => c.opts!.jobId!);
  // The root is kept when it finishes, so the coordinator can read its result (or reason); it removes it after.
  const rootOpts: JobsOptions = { ...retry, removeOnComplete: false, removeOnFail: false };
  const tree = merge
    ? node(merge, { children: childIds }, rootOpts, level)
    : node({ kind: 'engine.collect', key: collectKey(flow.children), input: null }, { children: childIds, collect: true }, rootOpts, level);
  if (merge) countedIds.push(tree.opts!.jobId!);
  return { tree, rootId: tree.opts!.jobId!, countedIds, allIds };
}
