/**
 * A task: the unit of work an engine moves between machines. Its input and
 * result are JSON values (they travel over IPC or through Redis), its `key`
 * is deterministic (derived from what it computes: stage, shard,
 * configuration hash), so an engine can use it as a job id and a retried or
 * duplicated task is recognised. Handlers must be idempotent: running the
 * same task twice leaves the same files and returns the same result
 * (BullMQ delivers at least once; a killed worker's task runs again).
 */
export interface TaskSpec {
  /** Which handler runs it (registered with registerTaskKind). */
  kind: string;
  /** Deterministic identity, unique within a run: `<stage>/<shard>/<config hash>`. */
  key: string;
  /** JSON input for the handler. */
  input: unknown;
}

export interface TaskProgress {
  /** Rows processed so far by this task (engines sum them into rows/s). */
  rows?: number;
  /** Fraction done, 0…1, when known. */
  fraction?: number;
  message?: string;
}

export interface TaskContext {
  /** Report progress (throttled by the engine; cheap to call often). */
  progress(p: TaskProgress): void;
  /** Which attempt this is (1 = first). */
  attempt: number;
  /** Human-readable name of the worker running it (host:pid). */
  worker: string;
}

/** Runs one task. Throws on failure; the engine decides whether to retry. */
export type TaskHandler = (input: unknown, ctx: TaskContext) => Promise<unknown>;

/** A fan-out/fan-in: children run in parallel; the merge runs on their results (in children order). */
export interface FlowSpec {
  /** Shown in progress lines ("ingest: 3/8 shards"). */
  label: string;
  children: TaskSpec[];
  /**
   * Runs after every child succeeded, with input `{ input: merge.input, children: results }`.
   * Without it the flow's result is the children's results.
   */
  merge?: TaskSpec;
  /**
   * The merge is associative and its result has the children's shape, so
   * an engine may merge in a tree of at most `treeFanIn` results per node
   * (intermediate merges get `partial: true` in their input).
   */
  treeFanIn?: number;
}

/** What a merge handler receives. */
export interface MergeInput<I = unknown, R = unknown> {
  input: I;
  children: R[];
  /** True for an intermediate node of a tree merge. */
  partial?: boolean;
}
