/**
 * Drives one stage instance, whatever its shape (stage.ts), as a pull-based
 * async iterable of batches: the runner owns iteration, so stages do not.
 *
 * - Backpressure: a batch is pulled from upstream only when downstream asks
 *   for the next output, and `process` sees one batch at a time (its promise
 *   is awaited before the next batch is pulled).
 * - Counters: rows and batches in and out; busy time = milliseconds inside the
 *   stage's own calls (process, finish, add, merge, init, a source's next()),
 *   promises included. Raw-stream and legacy stages count their own busy time.
 * - Errors thrown by the stage's own calls are prefixed once with its label
 *   (`stage "drpo" (stages[3])`); the error keeps its class, so a ConfigError
 *   still exits 2. Errors from upstream pass through unchanged.
 */
import _ from 'highland';
import type { Batch } from './batch.js';
import { DataError } from './errors.js';
import { LocatedConfigError } from './config-schema.js';
import {
  stageShape,
  type BatchStage,
  type BatchStream,
  type CombineStage,
  type Emitted,
  type Finished,
  type RawStreamStage,
  type SourceStage,
  type StageCounters,
  type StageInstance,
} from './stage.js';

export interface DriveOptions {
  counters: StageCounters;
  /** Prefix of the stage's own errors, e.g. `stage "drpo" (stages[3])`. */
  label: string;
  /**
   * A source placed after the first stage starts a new phase: its input is
   * run to the end (batches discarded) before the source starts.
   */
  drainInputFirst?: boolean;
  /** Called with each output batch (wall-clock bookkeeping). */
  onOutput?: (b: Batch) => void;
}

const labelled = new WeakSet<Error>();

/**
 * Prefix an error from a stage's own call with the stage's label (once),
 * keeping its class. A DataError keeps its message: it already says where in
 * the data the problem is (`file:line: field "…": …`), which is what a user needs.
 */
export function withStageLabel(e: unknown, label: string): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (labelled.has(err)) return err;
  labelled.add(err);
  // Errors that already name their file (a row's file:line, a dataset part, a checkpoint) keep their message.
  if (err instanceof DataError || err instanceof LocatedConfigError) return err;
  err.message = `${label}: ${err.message}`;
  return err;
}

/** Whether an error already carries a stage label (it came from upstream). */
function isLabelled(e: unknown): boolean {
  return e instanceof Error && labelled.has(e);
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** Run one of the stage's own calls: time it as busy time, label its errors. */
async function call<T>(o: DriveOptions, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    const r = fn();
    return isPromise<T>(r) ? await r : r;
  } catch (e) {
    throw withStageLabel(e, o.label);
  } finally {
    o.counters.busyMs += performance.now() - t0;
  }
}

/** The synchronous form of `call`, for calls that must not return a promise (add, merge, init). */
function callSync<T>(o: DriveOptions, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } catch (e) {
    throw withStageLabel(e, o.label);
  } finally {
    o.counters.busyMs += performance.now() - t0;
  }
}

async function* countIn(input: AsyncIterable<Batch>, c: StageCounters): AsyncGenerator<Batch> {
  for await (const b of input) {
    c.rowsIn += b.numRows;
    c.batchesIn++;
    yield b;
  }
}

function pushAll(queue: Batch[], out: Emitted): void {
  if (out === undefined) return;
  if (Array.isArray(out)) queue.push(...out);
  else queue.push(out);
}

/** Drive a stage instance over `input`; the result yields the stage's output batches. */
export async function* driveStage(inst: StageInstance, input: AsyncIterable<Batch>, o: DriveOptions): AsyncGenerator<Batch> {
  let counted = countIn(input, o.counters);
  if (o.drainInputFirst) {
    for await (const _b of counted);
    counted = countIn(noBatches(), o.counters);
  }
  const shape = stageShape(inst);
  let out: AsyncIterable<Batch>;
  if (shape === 'source') out = driveSource(inst as SourceStage, o);
  else if (shape === 'batch') out = driveBatches(inst as BatchStage, counted, o);
  else if (shape === 'combine') out = driveCombine(inst as CombineStage<unknown>, counted, o);
  else {
    const raw = inst as RawStreamStage;
    out = pullStream(raw.rawStream(streamFromAsync(() => counted)), o.label);
  }
  for await (const b of out) {
    o.counters.rowsOut += b.numRows;
    o.counters.batchesOut++;
    o.onOutput?.(b);
    yield b;
  }
}

async function* noBatches(): AsyncGenerator<Batch> {}

async function* driveSource(inst: SourceStage, o: DriveOptions): AsyncGenerator<Batch> {
  yield* pullTimed(
    callSync(o, () => inst.source()[Symbol.asyncIterator]()),
    o,
  );
}

/** Pull a stage's own iterator one item at a time, each pull timed and labelled as the stage's work. */
async function* pullTimed(it: AsyncIterator<Batch> | Iterator<Batch>, o: DriveOptions): AsyncGenerator<Batch> {
  let done = false;
  try {
    for (;;) {
      const r = await call(o, () => it.next());
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    // Downstream stopped early (or failed): let the stage release what it holds.
    if (!done) await it.return?.();
  }
}

async function* driveBatches(inst: BatchStage, input: AsyncIterable<Batch>, o: DriveOptions): AsyncGenerator<Batch> {
  const queue: Batch[] = [];
  const emit = (b: Batch) => {
    queue.push(b);
  };
  // Settled once finish returned or abort was called: abort runs at most once, never after finish.
  let settled = false;
  const abort = (e: unknown) => {
    if (settled) return;
    settled = true;
    try {
      inst.abort?.(e instanceof Error ? e : new Error(String(e)));
    } catch {
      // The first error is the one to report; a failing abort must not hide it.
    }
  };
  try {
    for await (const b of input) {
      pushAll(queue, await call(o, () => inst.process(b, emit)));
      while (queue.length > 0) yield queue.shift()!;
    }
    if (inst.finish) {
      const out = await call<Finished>(o, () => inst.finish!(emit));
      while (queue.length > 0) yield queue.shift()!;
      yield* finishedBatches(out, o);
    }
    settled = true;
  } catch (e) {
    abort(e);
    throw e;
  } finally {
    // Downstream stopped pulling before the end.
    abort(new Error('the pipeline stopped before this stage finished'));
  }
}

async function* driveCombine<S>(inst: CombineStage<S>, input: AsyncIterable<Batch>, o: DriveOptions): AsyncGenerator<Batch> {
  let state = callSync(o, () => inst.init());
  for await (const b of input) {
    state = callSync(o, () => inst.add(state, b));
    if (inst.passInput) yield b;
  }
  const queue: Batch[] = [];
  const out = await call<Finished>(o, () => inst.finish(state, (b) => queue.push(b)));
  yield* queue;
  yield* finishedBatches(out, o);
}

/** The batches `finish` returned; a lazy sequence is pulled one batch at a time, each step timed as busy time. */
async function* finishedBatches(out: Finished, o: DriveOptions): AsyncGenerator<Batch> {
  if (out === undefined) return;
  if (Array.isArray(out)) {
    yield* out;
    return;
  }
  if (Symbol.asyncIterator in out || Symbol.iterator in out) {
    yield* pullTimed(Symbol.asyncIterator in out ? out[Symbol.asyncIterator]() : (out as Iterable<Batch>)[Symbol.iterator](), o);
    return;
  }
  yield out as Batch;
}

/** A highland stream from an async iterable of batches (pulled on demand). */
export function streamFromAsync(gen: () => AsyncIterable<Batch>): BatchStream {
  let it: AsyncIterator<Batch> | undefined;
  return _<Batch>((push, next) => {
    it ??= gen()[Symbol.asyncIterator]();
    it.next().then(
      (r) => {
        if (r.done) push(null, _.nil);
        else {
          push(null, r.value);
          next();
        }
      },
      (err: unknown) => {
        push(err instanceof Error ? err : new Error(String(err)));
        push(null, _.nil);
      },
    );
  });
}

/** The batches of a highland stream as an async iterable; errors the stream did not get from upstream are labelled. */
async function* pullStream(stream: BatchStream, label: string): AsyncGenerator<Batch> {
  for (;;) {
    const b = await new Promise<Batch | undefined>((resolve, reject) => {
      stream.pull((err, x) => {
        if (err) reject(isLabelled(err) ? err : withStageLabel(err, label));
        else if (x === _.nil) resolve(undefined);
        else resolve(x as Batch);
      });
    });
    if (b === undefined) return;
    yield b;
  }
}

/**
 * Run one instance on a highland stream and return its output stream (tests,
 * benchmarks and library code using a single stage outside a pipeline).
 */
export function applyStage(inst: StageInstance, input: BatchStream, o: Partial<DriveOptions> = {}): BatchStream {
  const opts: DriveOptions = {
    counters: o.counters ?? { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 },
    label: o.label ?? 'stage',
    ...(o.drainInputFirst ? { drainInputFirst: true } : {}),
    ...(o.onOutput ? { onOutput: o.onOutput } : {}),
  };
  return streamFromAsync(() => driveStage(inst, pullStream(input, opts.label), opts));
}

/** Run one instance over batches and collect its output. */
export async function runStageOn(inst: StageInstance, input: Iterable<Batch> | AsyncIterable<Batch>, o: Partial<DriveOptions> = {}): Promise<Batch[]> {
  const opts: DriveOptions = { counters: o.counters ?? { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 }, label: o.label ?? 'stage' };
  const out: Batch[] = [];
  for await (const b of driveStage(inst, toAsync(input), opts)) out.push(b);
  return out;
}

async function* toAsync(input: Iterable<Batch> | AsyncIterable<Batch>): AsyncGenerator<Batch> {
  yield* input;
}
