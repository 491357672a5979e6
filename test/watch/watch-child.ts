/** `recpost evaluate --watch` as a child process that a test feeds, waits on and signals. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MetricRecord } from '../../schemas/metric-record.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface WatchChild {
  out(): string;
  err(): string;
  /** The complete JSON lines of stdout so far. */
  records(): MetricRecord[];
  /** Resolve once `done()` holds (checked every 50 ms); reject after `ms` with what the child said. */
  waitFor(what: string, done: () => boolean, ms?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWatcher(args: string[]): WatchChild {
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO, 'pipelines', 'cli.ts'), ...args], {
    cwd: REPO,
    env: { ...process.env, RECPOST_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let ended = false;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      ended = true;
      resolve({ code, signal });
    }),
  );
  const records = () =>
    out
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as MetricRecord);
  return {
    out: () => out,
    err: () => err,
    records,
    waitFor(what, done, ms = 90_000) {
      const t0 = Date.now();
      return new Promise((resolve, reject) => {
        const tick = () => {
          if (done()) return resolve();
          if (ended || Date.now() - t0 > ms) {
            child.kill('SIGKILL');
            return reject(new Error(`watcher: ${ended ? 'exited' : 'timed out'} waiting for ${what}; stderr:\n${err}`));
          }
          setTimeout(tick, 50);
        };
        tick();
      });
    },
    kill: (signal) => child.kill(signal),
    exited,
  };
}
