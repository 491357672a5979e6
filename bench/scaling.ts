/**
 * Scaling benchmark: a generated ML-20M-like ratings log (50M interactions;
 * 2M with --quick; any size with --rows N) ingested in user buckets
 * (one user bucket per 125K interactions, at least 16; --buckets B) through ingest → split → reward statistics
 * → Exp-RSFT weighting → write, on 1 worker (the streaming runner, one
 * process) and on 2 local workers (the sharded plan, pipelines/plan/: the
 * split runs one shard per bucket), each run in its own child process.
 * Reported: rows/s of the whole pipeline, the speed-up over one worker, CPU
 * seconds of the run (the child and its reaped worker processes, from
 * /proc/self/stat: the wall figures are noisy on a shared machine, the CPU
 * seconds less so), and peak RSS of the coordinator and of the worst worker
 * (process.resourceUsage().maxRSS in each shard's result).
 *
 * The Redis engine's row: 2 `recpost worker`s on a redis-server started for
 * the run, the same plan submitted through BullMQ; worker peak memory read
 * from /proc (the workers and their job processes).
 *
 * Run alone: `npx tsx bench/scaling.ts [--quick] [--rows N] [--buckets B] [--only local]`;
 * in the suite: `npm run bench -- --only scaling`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './common.js';
import { peakRssMB, runBenchChild } from './common.js';
import { generateRatingsCsv } from './ingest.js';
import { resolvePipeline } from '../pipelines/spec.js';
import type { ResolvedPipeline } from '../pipelines/spec.js';

const SELF = fileURLToPath(import.meta.url);
const TARGET_SPEEDUP = 1.7;

interface EngineRow {
  name: string;
  workers: number;
  /** 'none': the streaming runner in one process. */
  engine: 'none' | 'local' | 'redis';
}

const ENGINES: EngineRow[] = [
  { name: '1 worker (one process)', workers: 1, engine: 'none' },
  { name: '2 local workers', workers: 2, engine: 'local' },
  // The cluster engine's row: 2 `recpost worker`s on a local redis-server.
  { name: '2 Redis workers', workers: 2, engine: 'redis' },
];

interface ChildArgs {
  csv: string;
  out: string;
  workers: number;
  engine: EngineRow['engine'];
  buckets: number;
}

interface ChildResult {
  rows: number;
  seconds: number;
  coordinatorRssMB: number;
  workerRssMB: number;
  retries: number;
  /** CPU seconds of the child and of its worker processes that exited (user + system). */
  cpuSeconds: number;
}

/** User + system CPU seconds of this process and of its waited-for children (/proc/self/stat fields 14–17, in clock ticks of 1/100 s). */
function cpuSecondsWithChildren(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, so utime (14) … cstime (17) are at 11 … 14 here.
    return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0) / 100;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
}

function pipeline(csv: string, out: string, buckets: number): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 'bench-scaling',
      out_dir: out,
      seed: 1,
      stages: [
        { stage: 'ingest', with: { path: csv, output: path.join(out, 'interactions'), user_buckets: buckets } },
        { stage: 'split_sequences', with: { max_len: 50, threshold: 4.5, output: path.join(out, 'examples') } },
        { stage: 'reward_stats', with: { barrier: true, batch_metrics: false } },
        { stage: 'exp_rsft', with: { lambda: 1 } },
        { stage: 'write_parquet', with: { path: path.join(out, 'weighted') } },
      ],
    },
    'bench-scaling',
  );
}

async function childMain(args: ChildArgs): Promise<void> {
  const p = pipeline(args.csv, args.out, args.buckets);
  const t0 = performance.now();
  const cpu0 = cpuSecondsWithChildren();
  let workerRssMB = 0;
  let retries = 0;
  let rows = 0;
  if (args.engine === 'none') {
    const { runPipeline } = await import('../pipelines/runner.js');
    const r = await runPipeline(p, { quiet: true, progress: false, writeFiles: false });
    rows = r.stages[0]!.rowsOut;
    if (process.env.RECPOST_BENCH_STEPS) for (const s of r.stages) process.stderr.write(`  ${s.id}: busy ${(s.busyMs / 1000).toFixed(1)} s\n`);
  } else {
    const [{ openEngine }, { runPlanned }] = await Promise.all([import('../pipelines/engine/open-engine.js'), import('../pipelines/plan/plan-runner.js')]);
    const runOn = async (engine: Awaited<ReturnType<typeof openEngine>>) => {
      try {
        const r = await runPlanned(p, {
          quiet: true,
          progress: false,
          writeFiles: false,
          shards: args.workers,
          engine: {
            kind: engine.kind,
            slots: engine.slots,
            async runFlow(flow, onProgress) {
              const t = performance.now();
              const results = (await engine.runFlow(flow, (pr) => {
                retries = Math.max(retries, pr.retries);
                onProgress?.(pr);
              })) as { worker?: { peakRssMB: number; cpuMs?: number } }[];
              let peak = 0;
              let cpuMs = 0;
              for (const x of results) {
                peak = Math.max(peak, x?.worker?.peakRssMB ?? 0);
                cpuMs += x?.worker?.cpuMs ?? 0;
              }
              workerRssMB = Math.max(workerRssMB, peak);
              // RECPOST_BENCH_STEPS=1: where the time goes, flow by flow (wall s; the workers' peak so far).
              if (process.env.RECPOST_BENCH_STEPS)
                process.stderr.write(
                  `  ${flow.label}: ${flow.children.length} task(s), ${((performance.now() - t) / 1000).toFixed(1)} s, ${(cpuMs / 1000).toFixed(1)} CPU s in tasks, worker peak ${peak.toFixed(0)} MB\n`,
                );
              return results;
            },
          },
        });
        rows = r.stages[0]!.rowsOut;
      } finally {
        await engine.close();
      }
    };
    if (args.engine === 'redis') {
      // 2 `recpost worker`s on a redis-server started for the run (bench/redis-harness.ts); their peak memory from /proc.
      const { withRedisWorkers } = await import('./redis-harness.js');
      await withRedisWorkers(args.workers, async (redis, workers) => {
        await runOn(await openEngine({ redis }));
        for (const w of workers) {
          const m = w.peakMemory();
          workerRssMB = Math.max(workerRssMB, m.worker / 2 ** 20, ...m.processors.map((b) => b / 2 ** 20));
        }
      });
    } else await runOn(await openEngine({ workers: args.workers }));
  }
  const res: ChildResult = {
    rows,
    seconds: (performance.now() - t0) / 1000,
    coordinatorRssMB: peakRssMB(),
    workerRssMB,
    retries,
    cpuSeconds: cpuSecondsWithChildren() - cpu0,
  };
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

function runChild(args: ChildArgs): Promise<ChildResult> {
  return runBenchChild<ChildResult>(SELF, args, { label: 'scaling bench child' });
}

export interface ScalingOptions extends BenchOptions {
  /** Interactions generated (default: 50M; 2M with quick). */
  rows?: number;
  /** User buckets of the ingest (default: one per 125K interactions, at least 16: the per-bucket size of the 2M and 10M runs, so a worker's share stays the same as the input grows). */
  buckets?: number;
  /** Only these engines ('none', 'local', 'redis'). */
  only?: EngineRow['engine'][];
}

export async function run(opts: ScalingOptions): Promise<BenchResult[]> {
  const rows = opts.rows ?? (opts.quick ? 2_000_000 : 50_000_000);
  const buckets = opts.buckets ?? Math.max(16, Math.round(rows / 125_000));
  const csv = path.join(opts.scratch, 'scaling-ratings.csv');
  const log = generateRatingsCsv(csv, rows, 5);
  const results: BenchResult[] = [];
  let base: number | undefined;
  for (const e of ENGINES.filter((x) => !opts.only || opts.only.includes(x.engine))) {
    const name = `${e.name}: ingest (${buckets} user buckets) → split → stats → Exp-RSFT → write, ${rows / 1e6}M interactions`;
    const out = path.join(opts.scratch, `scaling-${e.engine}-${e.workers}`);
    const r = await runChild({ csv, out, workers: e.workers, engine: e.engine, buckets });
    fs.rmSync(out, { recursive: true, force: true });
    const rate = r.rows / r.seconds;
    base ??= rate;
    const speedup = rate / base;
    results.push({
      suite: 'scaling',
      name,
      rows: r.rows,
      seconds: r.seconds,
      rate,
      peakRssMB: Math.max(r.coordinatorRssMB, r.workerRssMB),
      ...(e.workers > 1 ? { target: `≥ ${TARGET_SPEEDUP}× one worker`, met: speedup >= TARGET_SPEEDUP } : {}),
      notes:
        `speed-up ${speedup.toFixed(2)}×; ${r.cpuSeconds.toFixed(1)} CPU s; coordinator peak ${r.coordinatorRssMB.toFixed(0)} MB` +
        `${r.workerRssMB ? `, worker peak ${r.workerRssMB.toFixed(0)} MB` : ''}${r.retries ? `, ${r.retries} retries` : ''}`,
    });
  }
  fs.rmSync(log.file, { force: true });
  return results;
}

const invokedDirectly = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(SELF);
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    childMain(JSON.parse(argv[1]!) as ChildArgs).catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    });
  } else {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-bench-scaling-'));
    const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
    const rowsFlag = value('--rows');
    const bucketsFlag = value('--buckets');
    const onlyFlag = value('--only');
    run({
      quick: argv.includes('--quick'),
      scratch,
      ...(rowsFlag ? { rows: Number(rowsFlag) } : {}),
      ...(bucketsFlag ? { buckets: Number(bucketsFlag) } : {}),
      ...(onlyFlag ? { only: onlyFlag.split(',') as EngineRow['engine'][] } : {}),
    })
      .then((rs) => {
        for (const r of rs)
          process.stdout.write(`${r.name}: ${r.rows ? `${(r.rate / 1e6).toFixed(2)}M rows/s in ${r.seconds.toFixed(1)} s, ` : ''}${r.notes ?? ''}\n`);
      })
      .finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
  }
}
