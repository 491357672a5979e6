/**
 * Start a worker thread on a module beside the caller: `<name>.js` in the
 * built dist/, or `<name>.ts` when running from sources (tsx, vitest), where
 * the thread first registers tsx's loader so it can import TypeScript. The
 * thread's code is a small bootstrap given inline (eval), so the same call
 * works in both settings without a loader flag on the process.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})().catch((e) => setImmediate(() => { throw e; }));
`;

/** URL of the module `name` beside `callerUrl` and, from TypeScript sources, of tsx's ESM API. */
export function moduleWorkerEntry(callerUrl: string, name: string): { entry: string; tsxApi?: string } {
  if (!callerUrl.endsWith('.ts')) return { entry: new URL(`./${name}.js`, callerUrl).href };
  const require = createRequire(callerUrl);
  const tsxDir = path.dirname(require.resolve('tsx/package.json'));
  return { entry: new URL(`./${name}.ts`, callerUrl).href, tsxApi: pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href };
}

/** A worker thread running the module `name` beside `callerUrl` (pass the caller's import.meta.url). */
export function startModuleWorker(callerUrl: string, name: string): Worker {
  return new Worker(BOOTSTRAP, { eval: true, workerData: moduleWorkerEntry(callerUrl, name) });
}
