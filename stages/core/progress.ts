/**
 * Progress on stderr for long work: the count and its unit (rows, steps,
 * examples…), the rate, the position against the total when known
 * ("done/total" when the total is in the same unit, else a percentage), the time
 * left, and a status (e.g. the current loss). Silent unless enabled (the
 * runner enables it only for a TTY without --quiet). Redraws at most every
 * 250 ms, in the terminal's live region (live-region.ts: cut to the width,
 * no stale characters), above which other messages are printed.
 */
import { displayWidth, fitToWidth, liveRegion, type TerminalStream } from './live-region.js';

export interface ProgressOptions {
  /** What `advance` counts: rows (default), steps (optimiser steps), examples… */
  unit?: string;
  /** The total is in the same unit as the count: show "120/400 steps". */
  totalIsCount?: boolean;
  /** Position already reached before this process started (a resumed epoch): the rate and ETA count from here. */
  startAt?: number;
  stream?: TerminalStream;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

let nextId = 0;

export class Progress {
  private readonly unit: string;
  private readonly now: () => number;
  private readonly start: number;
  private readonly key = `progress:${nextId++}`;
  private readonly stream: TerminalStream;
  private last = Number.NEGATIVE_INFINITY;
  private count = 0;
  private done: number;
  private status = '';

  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
    /** Total in the unit of `advance`'s `done` argument (bytes, rows or steps). */
    private readonly total?: number,
    private readonly options: ProgressOptions = {},
  ) {
    this.unit = options.unit ?? 'rows';
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.done = options.startAt ?? 0;
    this.stream = options.stream ?? process.stderr;
  }

  /** Add `n` units processed; `done` is the absolute position (bytes read, steps of the epoch) if known; `status` replaces the status text. */
  advance(n: number, done?: number, status?: string): void {
    this.count += n;
    if (done !== undefined) this.done = done;
    if (status !== undefined) this.status = status;
    if (!this.enabled) return;
    const now = this.now();
    if (now - this.last < 250) return;
    this.last = now;
    const region = liveRegion(this.stream);
    region.set(this.key, this.fitted(region.lineWidth, now));
  }

  /**
   * The line fitted to `width` columns: a long label is shortened first, so
   * the numbers (position, rate, ETA, loss) stay visible; then the line is cut.
   */
  fitted(width: number, now: number = this.now(), suffix = ''): string {
    const full = this.line(now) + suffix;
    if (displayWidth(full) <= width) return full;
    const room = Math.max(8, width - (displayWidth(full) - displayWidth(this.label)));
    return fitToWidth(this.line(now, shortenMiddle(this.label, room)) + suffix, width);
  }

  /** The progress line at time `now` (ms). */
  line(now: number = this.now(), label = this.label): string {
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? this.count / secs : 0;
    const parts = [`[${label}]`];
    parts.push(
      this.total && this.options.totalIsCount ? `${formatCount(this.done)}/${formatCount(this.total)} ${this.unit}` : `${formatCount(this.count)} ${this.unit}`,
    );
    parts.push(`${formatRate(rate)}/s`);
    if (this.total) {
      if (!this.options.totalIsCount) parts.push(`${Math.min(100, (100 * this.done) / this.total).toFixed(1)}%`);
      // Time left from the pace of the position since the start (not from the count: the total may be bytes).
      const moved = this.done - (this.options.startAt ?? 0);
      if (moved > 0 && secs > 0 && this.done < this.total) parts.push(`ETA ${formatDuration(((this.total - this.done) * secs) / moved)}`);
    }
    if (this.status) parts.push(this.status);
    return parts.join('  ');
  }

  finish(): void {
    if (!this.enabled) return;
    const region = liveRegion(this.stream);
    region.set(this.key, undefined);
    region.printAbove(this.fitted(region.lineWidth, this.now(), '  done'));
  }
}

/** Cut the middle of a label (its start names the stage, its end the method and epoch). */
function shortenMiddle(s: string, width: number): string {
  const cs = [...s];
  if (cs.length <= width) return s;
  const head = Math.floor((width - 1) / 3);
  return `${cs.slice(0, head).join('')}…${cs.slice(cs.length - (width - 1 - head)).join('')}`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}K`;
  return `${Math.round(n)}`;
}

/** A rate: one decimal below 100 per second (training steps), else as a count. */
function formatRate(r: number): string {
  return r < 100 ? r.toFixed(1) : formatCount(r);
}

/** Seconds as "8s", "3m05s", "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
