/**
 * Entry of a local worker process (forked by local-engine.ts). It imports the
 * task catalog and any extra modules named in RECPOST_TASK_MODULES, says
 * `ready`, then runs one task at a time as the parent sends them, replying
 * with the result or the serialized error. It exits when the parent
 * disconnects, so no worker outlives its run.
 */
import * as os from 'node:os';
import { taskCatalogUrl } from './catalog-location.js';
import { taskHandler } from './task-registry.js';
import { serializeTaskError } from './task-errors.js';
import type { ChildMessage, ParentMessage } from './local-messages.js';

const send = (m: ChildMessage) => {
  // The parent may have closed the engine while this worker was starting or
  // running (it stopped at another shard's error): a failed send is then not
  // this worker's error to report (no EPIPE trace), and 'disconnect' ends it.
  if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
};
const worker = `${os.hostname()}:${process.pid}`;

async function main(): Promise<void> {
  await import(taskCatalogUrl());
  const modules = JSON.parse(process.env.RECPOST_TASK_MODULES ?? '[]') as string[];
  for (const m of modules) await import(m);
  process.on('message', (m: ParentMessage) => {
    if (m.type !== 'run') return;
    const { id, task, attempt } = m;
    let last = 0;
    const ctx = {
      attempt,
      worker,
      progress(p: { rows?: number; fraction?: number; message?: string }) {
        const now = Date.now();
        if (now - last < 200) return;
        last = now;
        send({ type: 'progress', id, progress: p });
      },
    };
    void (async () => {
      try {
        const result = await taskHandler(task.kind)(task.input, ctx);
        send({ type: 'result', id, result: result ?? null });
      } catch (e) {
        send({ type: 'error', id, error: serializeTaskError(e) });
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', worker });
}

main().catch((e) => {
  send({ type: 'fatal', error: serializeTaskError(e) });
  process.exitCode = 1;
  process.disconnect?.();
});
