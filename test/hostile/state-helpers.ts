/** Fixtures of the "state that lies" tests: temporary directories, the CLI in-process and as a child process to kill. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

const created: string[] = [];

export function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `recpost-state-${prefix}-`));
  created.push(d);
  return d;
}

export function removeTmp(): void {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Run the CLI's main() in this process, capturing stdout and stderr. */
export async function cliInProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../pipelines/cli.js');
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Run `recpost <args>` as a child process; `killWhen` is polled every 20 ms
 * and, once true, the child gets SIGKILL. Resolves with the exit code (null
 * when killed) and the signal.
 */
export function cliChild(
  args: string[],
  killWhen?: () => boolean,
  timeoutMs = 120_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'pipelines', 'cli.ts'), ...args], {
      cwd: REPO,
      env: { ...process.env, RECPOST_BACKEND: 'wasm' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const poll = killWhen
      ? setInterval(() => {
          if (killWhen()) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 20)
      : undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, err });
    });
  });
}
