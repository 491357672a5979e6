/**
 * `recpost worker --redis <url> [--concurrency k]`: run the cluster engine's
 * jobs on this machine until stopped. Start as many as you like, anywhere
 * that can reach Redis and the datasets (a shared filesystem or object
 * store); `recpost run … --redis <url>` submits the work.
 *
 * SIGTERM or SIGINT: stop taking jobs and finish the running ones, then exit
 * 0 (Kubernetes sends SIGTERM and waits terminationGracePeriodSeconds). A
 * second signal exits at once (code 130/143): the jobs it held are given
 * to another worker when their locks expire.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../stages/core/config-schema.js';
import { integerOption } from '../args.js';
import type { CliCommand } from '../command.js';
import { checkQueueName, DEFAULT_QUEUE, WORKER_DEFAULTS } from '../engine/redis-jobs.js';

interface WorkerFlags {
  redis: string;
  concurrency: number;
  queue: string;
  lockDuration: number;
  stalledInterval: number;
  import: string[];
}

function positive(name: string, min = 1): (value: string) => number {
  const integer = integerOption(name);
  return (value) => {
    const n = integer(value);
    if (n < min) throw new ConfigError(`${name} must be at least ${min}, got ${n}`, [name]);
    return n;
  };
}

/** A module path (relative to the working directory) or file URL, as a file URL; it must exist. */
function moduleUrl(spec: string): string {
  const file = spec.startsWith('file:') ? new URL(spec).pathname : path.resolve(spec);
  if (!fs.existsSync(file)) throw new ConfigError(`--import ${spec}: no such file`, ['--import']);
  return pathToFileURL(file).href;
}

export const workerCommand: CliCommand = {
  name: 'worker',
  define: (program) =>
    program
      .command('worker')
      .summary('run cluster-engine jobs from Redis (BullMQ) until stopped')
      .description(
        'Take the jobs that `recpost run … --redis <url>` submits and run them, each in a child process. Datasets must be reachable at the same paths as on the machine that submits (a shared filesystem). SIGTERM finishes the running jobs, then exits; a second signal exits at once.',
      )
      .requiredOption('--redis <url>', 'Redis URL: redis://host:port[/db], rediss://… (TLS) or unix:///path/to/redis.sock')
      .option('--concurrency <k>', 'jobs run at once (one child process each)', positive('--concurrency'), WORKER_DEFAULTS.concurrency)
      .option('--queue <name>', 'the queue to take jobs from (as given to `recpost run --queue`)', DEFAULT_QUEUE)
      .option(
        '--lock-duration <ms>',
        "a job's lock, renewed every half of it while the job runs; a dead worker's job is taken over after this plus the stall interval",
        positive('--lock-duration', 100),
        WORKER_DEFAULTS.lockDurationMs,
      )
      .option(
        '--stalled-interval <ms>',
        'how often this worker looks for jobs whose worker died',
        positive('--stalled-interval', 100),
        WORKER_DEFAULTS.stalledIntervalMs,
      )
      .option(
        '--import <module>',
        'also import this module (registers extra task kinds); repeatable',
        (v: string, all: string[]) => [...all, v],
        [] as string[],
      )
      .action(async (opts: WorkerFlags) => {
        checkQueueName(opts.queue);
        const modules = opts.import.map(moduleUrl);
        const { checkRedis } = await import('../engine/redis-check.js');
        const { startRedisWorker } = await import('../engine/redis-worker.js');
        const check = await checkRedis(opts.redis);
        const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        if (check.warning) log(`warning: ${check.warning}`);
        const worker = await startRedisWorker({
          redis: opts.redis,
          queue: opts.queue,
          concurrency: opts.concurrency,
          lockDurationMs: opts.lockDuration,
          stalledIntervalMs: opts.stalledInterval,
          modules,
          log,
        });
        log(
          `worker ${worker.name}: queue ${opts.queue} on ${opts.redis}, concurrency ${opts.concurrency}, lock ${opts.lockDuration} ms, stall check every ${opts.stalledInterval} ms`,
        );
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (signal: NodeJS.Signals) => {
            if (stopping) {
              log(`${signal} again: exiting now; running jobs go to another worker when their locks expire`);
              process.exit(signal === 'SIGINT' ? 130 : 143);
            }
            stopping = true;
            log(`${signal}: finishing running jobs, taking no new ones (signal again to exit now)`);
            void worker.close().then(() => {
              log(`worker ${worker.name} stopped`);
              resolve();
            });
          };
          process.on('SIGTERM', stop);
          process.on('SIGINT', stop);
        });
      }),
};
