/**
 * The records of one online update (split "train", step = update): what the
 * rollout of π_u measured (proxy_reward, gold_reward, kl_ref, entropy),
 * then the update's own figures (the advantage source's diagnostics, loss,
 * grad_norm and the loss's parts), each with count = the candidates drawn.
 */
import type { ContextBatch } from './online-model.js';
import type { Rollout } from './online-rollout.js';
import type { OnlineHooks } from './online-trainer.js';

/** Arithmetic mean (NaN for no values: such a record is not emitted). */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : NaN;
}

/** Emit the records of update `u`; non-finite values are skipped. */
export function reportUpdate(
  hooks: Pick<OnlineHooks, 'emit' | 'gold'>,
  u: number,
  batch: ContextBatch,
  roll: Rollout,
  groupSize: number,
  proxy: Float64Array,
  figures: Record<string, number>,
): void {
  const count = roll.items.length;
  const rec = (metric: string, v: number) => Number.isFinite(v) && hooks.emit({ step: u, epoch: 0, metric, value: v, count });
  rec('proxy_reward', mean(proxy));
  if (hooks.gold) {
    const users = Int32Array.from(roll.items, (_, i) => batch.users[Math.floor(i / groupSize)]!);
    rec('gold_reward', mean(hooks.gold(users, roll.items)));
  }
  rec('kl_ref', mean(roll.exactKl));
  rec('entropy', mean(roll.entropy));
  for (const [k, v] of Object.entries(figures)) rec(k, v);
}
