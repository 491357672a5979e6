/**
 * Small combinators stages are built from. They keep the runner's counters
 * (rows, busy time) honest without each stage re-implementing the bookkeeping.
 */
import _ from 'highland';
import type { Batch } from './batch.js';
import type { BatchStream, StageContext } from './stage.js';

/** Apply a synchronous batch → batch function, timing it as the stage's busy time. */
export function mapBatches(ctx: StageContext, input: BatchStream, fn: (b: Batch) => Batch): BatchStream {
  return input.map((b) => {
    const t0 = performance.now();
    const out = fn(b);
    ctx.counters.busyMs += performance.now() - t0;
    return out;
  });
}

/** Apply an async batch → batch function in order, one at a time (backpressure kept). */
export function mapBatchesAsync(ctx: StageContext, input: BatchStream, fn: (b: Batch) => Promise<Batch>): BatchStream {
  return input.flatMap((b) => {
    const t0 = performance.now();
    return _(
      fn(b).then((out) => {
        ctx.counters.busyMs += performance.now() - t0;
        return out;
      }),
    );
  });
}

/** A highland stream from an async generator of batches (sources use this). */
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
        push(err as Error);
        push(null, _.nil);
      },
    );
  });
}

/**
 * The consume loop behind passThrough and consumeThenEmit: `each` sees every
 * batch and says whether it goes downstream; when the input ends, `end` runs
 * (sync or async) and what it returns is emitted before the end. Errors from
 * either become stream errors (so a failed flush fails the pipeline instead of
 * vanishing); upstream errors are passed on, the first one also to `onError`.
 */
function consumeBatches(
  input: BatchStream,
  each: (b: Batch) => boolean,
  end: () => void | Batch[] | Promise<void | Batch[]>,
  onError?: (e: Error) => void,
): BatchStream {
  let errored = false;
  return input.consume((err, x, push, next) => {
    if (err) {
      if (!errored) {
        errored = true;
        onError?.(err);
      }
      push(err);
      next();
    } else if (x === _.nil) {
      Promise.resolve()
        .then(end)
        .then(
          (out) => {
            for (const b of out ?? []) push(null, b);
            push(null, _.nil);
          },
          (e: unknown) => {
            push(e as Error);
            push(null, _.nil);
          },
        );
    } else {
      try {
        if (each(x as Batch)) push(null, x as Batch);
      } catch (e) {
        push(e as Error);
      }
      next();
    }
  });
}

/**
 * Pass batches through `each` and run `end` (sync or async) when the input
 * ends, before the end is passed downstream; errors from either become stream
 * errors (so a failed flush fails the pipeline instead of vanishing).
 * `onError` sees the first upstream error (e.g. to stop a timer); the error is
 * still passed on.
 */
export function passThrough(
  input: BatchStream,
  each: (b: Batch) => void,
  end: () => void | Promise<void>,
  onError?: (e: Error) => void,
): BatchStream {
  return consumeBatches(
    input,
    (b) => {
      each(b);
      return true;
    },
    end,
    onError,
  );
}

/**
 * Feed every input batch to `each` (timed as the stage's busy time; batches
 * are not passed on), then emit what `finish` returns (barrier stages: the
 * evaluators). The stage keeps only what `each` keeps, never the whole input.
 */
export function consumeThenEmit(ctx: StageContext, input: BatchStream, each: (b: Batch) => void, finish: () => Promise<Batch[]>): BatchStream {
  return consumeBatches(
    input,
    (b) => {
      const t0 = performance.now();
      each(b);
      ctx.counters.busyMs += performance.now() - t0;
      return false;
    },
    finish,
  );
}
