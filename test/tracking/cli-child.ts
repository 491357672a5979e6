/** Run the recpost CLI from source in a child process (tsx loader by absolute path, so any cwd works). */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = path.resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export function runCli(args: string[], cwd = REPO, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', TSX, path.join(REPO, 'pipelines', 'cli.ts'), ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
}
