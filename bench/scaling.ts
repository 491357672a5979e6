/**
 * Scaling benchmark: a generated ML-20M-like ratings log (50M interactions;
 * 2M with --quick) through ingest → split → reward statistics → Exp-RSFT
 * weighting → write, on 1 worker (the streaming runner, one process) and on
 * 2 local workers (the sharded plan, pipelines/plan/), each run in its own
 * child process. Reported: rows/s of the whole pipeline, the speed-up over
 * one worker, and peak RSS of the coordinator and of the worst worker
 * (process.resourceUsage().maxRSS in each shard's result).
 *
 * The Redis engine's row: 2 `recpost worker`s on a redis-server started for
 * the run, the same plan submitted through BullMQ; worker peak memory read
 * from /proc (the workers and their job processes).
 *
 * Run alone: `npx tsx bench/scaling.ts [--quick]`; in the suite: `npm run bench -- --only scaling`.
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
}

interface ChildResult {
  rows: number;
  seconds: number;
  coordinatorRssMB: number;
  workerRssMB: number;
  retries: number;
}

function pipeline(csv: string, out: string): ResolvedPipeline {
  return resolvePipeline(
    {
      name: 'bench-scaling',
      out_dir: out,
      seed: 1,
      stages: [
        { stage: 'ingest', with: { path: csv, output: path.join(out, 'interactions') } },
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
  const p = pipeline(args.csv, args.out);
  const t0 = performance.now();
  let workerRssMB = 0;
  let retries = 0;
  let rows = 0;
  if (args.engine === 'none') {
    const { runPipeline } = await import('../pipelines/runner.js');
    const r = await runPipeline(p, { quiet: true, progress: false, writeFiles: false });
    rows = r.stages[0]!.rowsOut;
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
              const results = (await engine.runFlow(flow, (pr) => {
                retries = Math.max(retries, pr.retries);
                onProgress?.(pr);
              })) as { worker?: { peakRssMB: number } }[];
              for (const x of results) workerRssMB = Math.max(workerRssMB, x?.worker?.peakRssMB ?? 0);
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
  const res: ChildResult = { rows, seconds: (performance.now() - t0) / 1000, coordinatorRssMB: peakRssMB(), workerRssMB, retries };
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

function runChild(args: ChildArgs): Promise<ChildResult> {
  return runBenchChild<ChildResult>(SELF, args, { label: 'scaling bench child' });
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const rows = opts.quick ? 2_000_000 : 50_000_000;
  const csv = path.join(opts.scratch, 'scaling-ratings.csv');
  const log = generateRatingsCsv(csv, rows, 5);
  const results: BenchResult[] = [];
  let base: number | undefined;
  for (const e of ENGINES) {
    const name = `${e.name}: ingest → split → stats → Exp-RSFT → write, ${rows / 1e6}M interactions`;
    const out = path.join(opts.scratch, `scaling-${e.engine}-${e.workers}`);
    const r = await runChild({ csv, out, workers: e.workers, engine: e.engine });
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
      notes: `speed-up ${speedup.toFixed(2)}×; coordinator peak ${r.coordinatorRssMB.toFixed(0)} MB${r.workerRssMB ? `, worker peak ${r.workerRssMB.toFixed(0)} MB` : ''}${r.retries ? `, ${r.retries} retries` : ''}`,
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
    run({ quick: argv.includes('--quick'), scratch })
      .then((rs) => {
        for (const r of rs)
          process.stdout.write(`${r.name}: ${r.rows ? `${(r.rate / 1e6).toFixed(2)}M rows/s in ${r.seconds.toFixed(1)} s, ` : ''}${r.notes ?? ''}\n`);
      })
      .finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
  }
}
