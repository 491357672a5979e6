import * as fs from 'node:fs';
import { spawnRedisWorker } from './bench/redis-harness.ts';
import { startLocalRedisServer } from './pipelines/engine/redis-local-server.ts';
import { openEngine } from './pipelines/engine/open-engine.ts';
const t0 = Date.now(); const t = () => ((Date.now() - t0) / 1000).toFixed(1);
const server = await startLocalRedisServer();
const file = '/tmp/rx/nums.txt'; fs.writeFileSync('/tmp/rx/run.log', ''); try { fs.rmSync('/tmp/rx/wf.txt'); } catch {}
const w = await spawnRedisWorker(server.url, { lockDurationMs: 1000, stalledIntervalMs: 500, queue: 'sigterm', imports: ['test/engine/redis-test-tasks.ts'] });
console.log(t(), 'worker up');
const e = await openEngine({ redis: server.url, queue: 'sigterm' });
console.log(t(), 'engine up');
const run = e.runFlow({ label: 'one', children: [{ kind: 'test.redis-shard', key: 'sum/0', input: { file, start: 0, end: 100, runLog: '/tmp/rx/run.log', key: 'sum/0', delayMs: 1500, workerFile: '/tmp/rx/wf.txt' } }] }, (p) => console.log(t(), JSON.stringify(p)));
while (!fs.existsSync('/tmp/rx/wf.txt')) await new Promise((r) => setTimeout(r, 25));
console.log(t(), 'running; SIGTERM');
w.child.kill('SIGTERM');
console.log(t(), await run);
console.log(t(), await w.exited);
console.log(w.log());
await e.close(); await server.stop();
