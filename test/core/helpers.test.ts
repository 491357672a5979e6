import _ from 'highland';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { consumeThenEmit, passThrough } from '../../stages/core/helpers.js';
import type { BatchStream, StageContext } from '../../stages/core/stage.js';

const batch = (n: number): Batch => ({ table: 'examples', numRows: n, columns: { action: Int32Array.from({ length: n }, (_v, i) => i + 1) } });

/** Everything a stream yields, values and errors in order. */
function drain(s: BatchStream): Promise<(Batch | Error)[]> {
  const seen: (Batch | Error)[] = [];
  return new Promise((resolve) => {
    s.consume((err, x, push, next) => {
      if (err) {
        seen.push(err);
        next();
      } else if (x === _.nil) {
        resolve(seen);
        push(null, _.nil);
      } else {
        seen.push(x as Batch);
        next();
      }
    }).resume();
  });
}

const ctx = { counters: { busyMs: 0 } } as unknown as StageContext;

describe('passThrough', () => {
  it('passes every batch on and runs end before the end goes downstream', async () => {
    const input = [batch(1), batch(2)];
    const order: string[] = [];
    const out = await drain(
      passThrough(
        _(input) as BatchStream,
        (b) => order.push(`each ${b.numRows}`),
        async () => {
          order.push('end');
        },
      ),
    );
    expect(out).toEqual(input);
    out.forEach((b, i) => expect(b).toBe(input[i]));
    expect(order).toEqual(['each 1', 'each 2', 'end']);
  });

  it('calls onError once, on the first upstream error, and passes every error on', async () => {
    const seenErrors: string[] = [];
    const upstream = _<Batch>([batch(1), batch(2), batch(3)]).map((b) => {
      if (b.numRows > 1) throw new Error(`bad ${b.numRows}`);
      return b;
    }) as BatchStream;
    const out = await drain(passThrough(upstream, () => {}, () => {}, (e) => seenErrors.push(e.message)));
    expect(seenErrors).toEqual(['bad 2']);
    expect(out.map((x) => (x instanceof Error ? x.message : x.numRows))).toEqual([1, 'bad 2', 'bad 3']);
  });

  it('turns a failing end into a stream error', async () => {
    const out = await drain(passThrough(_([batch(1)]) as BatchStream, () => {}, () => Promise.reject(new Error('flush failed'))));
    expect(out.map((x) => (x instanceof Error ? x.message : x.numRows))).toEqual([1, 'flush failed']);
  });
});

describe('consumeThenEmit', () => {
  it('feeds every batch to each, emits only what finish returns', async () => {
    let rows = 0;
    const out = await drain(
      consumeThenEmit(ctx, _([batch(2), batch(3)]) as BatchStream, (b) => (rows += b.numRows), async () => [batch(rows)]),
    );
    expect(out.map((x) => (x as Batch).numRows)).toEqual([5]);
  });

  it('reports a throwing each and a failing finish as stream errors', async () => {
    const out = await drain(
      consumeThenEmit(
        ctx,
        _([batch(1), batch(2)]) as BatchStream,
        (b) => {
          if (b.numRows === 1) throw new Error('bad row');
        },
        () => Promise.reject(new Error('finish failed')),
      ),
    );
    expect(out.map((x) => (x instanceof Error ? x.message : x.numRows))).toEqual(['bad row', 'finish failed']);
  });
});
