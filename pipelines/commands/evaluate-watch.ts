/**
 * `recpost evaluate <checkpoints…> --data <datasets> --state FILE --watch`:
 * follow checkpoint and data directories and evaluate each (checkpoint,
 * dataset) as soon as both are committed (stages/eval/watch.ts says what
 * counts as committed and how nothing is evaluated twice).
 *
 * Every evaluation is the same two-stage pipeline as a one-shot `evaluate`
 * (read_parquet → the evaluation stage) on one dataset with the state file,
 * so a unit's records are those a one-shot evaluation of that checkpoint on
 * that dataset prints. Baselines are not evaluated: they are recomputed from
 * the whole stream on every run and are not in the state, so a watch would
 * repeat them.
 *
 * Stopping: the first SIGINT or SIGTERM lets the evaluation in progress
 * finish (its pairs are committed and its records written), then the command
 * exits 0; a second one exits at once (status 130 or 143). The state file is
 * replaced atomically after every pair, so either way it is whole, and a
 * restart with the same --state resumes, evaluating nothing already done.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { artifactMap } from '../../stages/core/artifacts.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import type { Logger } from '../../stages/core/logger.js';
import { CHECKPOINTS_ARTIFACT, type CheckpointRef } from '../../stages/eval/checkpoints.js';
import { findCheckpoints } from '../../stages/eval/find-checkpoints.js';
import { EvaluationWatcher, type WatchedUnit } from '../../stages/eval/watch.js';
import { isCommittedDataset, type WatchedDataset } from '../../stages/eval/watch-datasets.js';
import { follow } from '../../stages/eval/watch-loop.js';
import { WatchOutput } from '../../stages/eval/watch-output.js';
import { runPipeline } from '../runner.js';
import { resolvePipeline } from '../spec.js';
import { EVALUATION_KINDS, evaluateStageOptions, type EvaluateOptions } from './evaluate.js';
import { checkWritableDir } from './paths.js';

/** Kinds whose stage has baselines (switched off in a watch). */
const WITH_BASELINES = new Set(['ranking', 'reward_model']);

export const DEFAULT_WATCH_INTERVAL_S = 2;

/** --interval in milliseconds: a positive number of seconds. */
export function watchIntervalMs(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WATCH_INTERVAL_S * 1000;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0)
    throw new ConfigError(`evaluate: --interval must be a positive number of seconds, got ${JSON.stringify(text)}`, ['interval']);
  return Math.max(10, Math.round(s * 1000));
}

function checkWatchOptions(targets: string[], opts: EvaluateOptions): void {
  if (opts.state === undefined)
    throw new ConfigError('evaluate: --watch needs --state FILE (the evaluation state is what keeps a watch from evaluating anything twice)', ['state']);
  if (opts.baselines !== undefined && opts.baselines !== 'none')
    throw new ConfigError('evaluate: --watch evaluates checkpoints only (baselines are recomputed on every run); drop --baselines or use --baselines none', [
      'baselines',
    ]);
  if (!fs.statSync(opts.data).isDirectory()) throw new ConfigError(`evaluate: --watch follows a directory: --data ${opts.data} is a file`, ['data']);
  for (const t of targets) findCheckpoints(t); // each must exist and be a directory (ConfigError naming it otherwise)
}

/** Warnings on stderr; the stage's info lines only when not quiet and not redrawing. */
function stageLogger(verbose: boolean): Logger {
  return {
    quiet: !verbose,
    info: (msg) => verbose && process.stderr.write(`${msg}\n`),
    warn: (msg) => process.stderr.write(`warning: ${msg}\n`),
  };
}

export async function watchEvaluation(targets: string[], opts: EvaluateOptions): Promise<void> {
  checkWatchOptions(targets, opts);
  const intervalMs = watchIntervalMs(opts.interval);
  if (opts.out !== undefined) checkWritableDir(opts.out, '--out');
  const stage = EVALUATION_KINDS[opts.kind]!;
  const stageOptions: Record<string, unknown> = { ...evaluateStageOptions(opts), ...(WITH_BASELINES.has(opts.kind) ? { baselines: [] } : {}) };
  const quiet = opts.quiet ?? false;
  const redraw = opts.format === 'table' && Boolean(process.stdout.isTTY);
  const output = new WatchOutput({
    format: opts.format === 'jsonl' ? 'jsonl' : 'table',
    write: (text) => process.stdout.write(text),
    ...(redraw ? { columns: () => process.stdout.columns || 80 } : {}),
    ...(opts.out !== undefined ? { metricsFile: path.join(opts.out, 'metrics.jsonl') } : {}),
    ...(quiet ? {} : { status: (line: string) => process.stderr.write(`${line}\n`) }),
  });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-evaluate-watch-'));

  const evaluate = async (dataset: WatchedDataset, checkpoints: CheckpointRef[]) => {
    const pipeline = resolvePipeline(
      {
        name: opts.run,
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        stages: [
          { stage: 'read_parquet', with: { path: dataset.dir } },
          { stage, with: stageOptions },
        ],
      },
      'evaluate',
    );
    await runPipeline(pipeline, {
      outDir: scratch,
      quiet: true,
      progress: false,
      logger: stageLogger(!quiet && !redraw),
      writeFiles: false,
      artifacts: artifactMap([[CHECKPOINTS_ARTIFACT, checkpoints]]),
    });
  };
  const watcher = new EvaluationWatcher({
    checkpointRoots: targets,
    dataRoot: opts.data,
    stateFile: opts.state!,
    run: opts.run,
    std: stageOptions.std === true,
    evaluate,
    onUnit: (u: WatchedUnit) => {
      output.add(u.records);
      output.status(`watch: evaluated ${u.checkpoint.dir} on ${u.dataset.dir} (${u.pairs} new pair(s), ${u.records.length} record(s))`);
    },
    onNotice: (line) => output.status(line),
  });

  const stop = new AbortController();
  let busy = false;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    if (busy) output.status(`watch: ${signal}: stopping after the evaluation in progress (${signal} again to abandon it; the state stays whole)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let first = true;
  try {
    await follow({
      // A dataset is replaced by renaming directories, which ends a watch on the directory itself: its parent sees the swap.
      paths: [...targets, opts.data, ...(isCommittedDataset(opts.data) ? [{ dir: path.dirname(path.resolve(opts.data)), recursive: false as const }] : [])],
      intervalMs,
      stop: stop.signal,
      scan: async () => {
        busy = true;
        try {
          const s = await watcher.scan(() => stop.signal.aborted);
          if (first || s.evaluated > 0)
            output.status(
              `watch: idle: ${s.checkpoints} checkpoint(s), ${s.datasets} dataset(s), ${s.pairsDone} pair(s) in ${opts.state}; waiting for changes (and looking every ${intervalMs / 1000} s)`,
            );
          first = false;
        } finally {
          busy = false;
        }
      },
    });
    output.status('watch: stopped');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
