/**
 * Follow directories: call `scan` once at the start, again soon after
 * anything changes below them (fs.watch, where the platform reports it) and
 * at least every `intervalMs` (the fallback for file systems where fs.watch
 * says nothing: network mounts, some containers). Scans never overlap: a
 * change during a scan queues exactly one more. Between scans the process
 * sleeps on timers and watch events (no busy loop).
 *
 * `stop` (an AbortSignal) ends the loop: no new scan starts, and the promise
 * resolves once the scan in progress, if any, has returned (the scan itself
 * looks at the signal to cut its work short).
 */
import * as fs from 'node:fs';

export interface FollowOptions {
  /** Directories (existing) to watch, recursively where supported unless marked not to be. */
  paths: readonly (string | { dir: string; recursive: false })[];
  /** Polling interval in milliseconds. */
  intervalMs: number;
  /** Delay after a change event before scanning, so a burst of events gives one scan. */
  settleMs?: number;
  stop: AbortSignal;
  scan: () => Promise<void>;
}

/** Open a watcher on `dir` (recursive when the platform can), or none when fs.watch is not available there. */
function watchDir(dir: string, onChange: () => void, recursiveWanted = true): fs.FSWatcher | undefined {
  for (const recursive of recursiveWanted ? [true, false] : [false]) {
    try {
      const w = fs.watch(dir, { recursive, persistent: true }, onChange);
      // A watcher that fails later (the directory removed, too many watches): the interval keeps going.
      w.on('error', () => w.close());
      return w;
    } catch {
      // recursive unsupported here: try the plain watch, then rely on polling
    }
  }
  return undefined;
}

export function follow(opts: FollowOptions): Promise<void> {
  const settleMs = opts.settleMs ?? 100;
  return new Promise<void>((resolve, reject) => {
    let running = false;
    let again = false;
    let settleTimer: NodeJS.Timeout | undefined;
    const watchers: fs.FSWatcher[] = [];

    const finish = (error?: unknown) => {
      clearInterval(poll);
      if (settleTimer) clearTimeout(settleTimer);
      for (const w of watchers) w.close();
      opts.stop.removeEventListener('abort', onAbort);
      if (error !== undefined) reject(error);
      else resolve();
    };
    const run = () => {
      if (opts.stop.aborted) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      opts.scan().then(
        () => {
          running = false;
          if (opts.stop.aborted) return finish();
          if (again) {
            again = false;
            run();
          }
        },
        (e: unknown) => {
          running = false;
          finish(e);
        },
      );
    };
    const onChange = () => {
      if (settleTimer) clearTimeout(settleTimer);
      settleTimer = setTimeout(run, settleMs);
    };
    const onAbort = () => {
      if (!running) finish();
    };

    const poll = setInterval(run, opts.intervalMs);
    for (const p of opts.paths) {
      const w = typeof p === 'string' ? watchDir(p, onChange) : watchDir(p.dir, onChange, false);
      if (w) watchers.push(w);
    }
    opts.stop.addEventListener('abort', onAbort);
    if (opts.stop.aborted) return finish();
    run();
  });
}
