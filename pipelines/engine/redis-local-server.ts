/**
 * A throwaway `redis-server` on a unix socket in a temporary directory, for
 * the tests and the scaling benchmark: no TCP port, no persistence (`--save
 * ''`, no AOF: its data dies with it), and `maxmemory-policy noeviction`
 * as a cluster's Redis must have. Started and stopped by the caller.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LocalRedisServer {
  /** unix:///…/redis.sock */
  readonly url: string;
  readonly socket: string;
  readonly pid: number;
  /** Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The redis-server on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found ? found : undefined;
}

export async function startLocalRedisServer(opts: { binary?: string; timeoutMs?: number } = {}): Promise<LocalRedisServer> {
  const binary = opts.binary ?? findRedisServer();
  if (!binary) throw new Error('redis-server is not installed (Debian: apt-get install -y redis-server)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no'];
  args.push('--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning');
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  // Ready when the socket accepts: the file appears once redis-server listens on it.
  while (!fs.existsSync(socket)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start: ${log.trim() || `exit code ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `unix://${socket}`,
    socket,
    pid: child.pid ?? -1,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(timer);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
