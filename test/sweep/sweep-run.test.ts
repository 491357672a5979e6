/**
 * `recpost run --seeds … --grid …` end to end, as a child process on 2 local
 * workers: each replicate equals the same run made alone with `recpost run
 * --seed s --set …`, the table is the mean ± std of the replicates' own
 * numbers, a rerun skips complete replicates, and failed replicates are
 * reported by name while the others finish.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../pipelines/cli.js';
import type { SweepRecord } from '../../pipelines/sweep/sweep-record.js';
import { recpost, removeTmpDirs, tmpDir } from '../cli/helpers.js';

const PIPELINE = `name: small
seed: 3
stages:
  - stage: simulate_recsim
    with: { preset: medium, num_users: 40, num_items: 50, dim: 4, topics: 3, interactions_per_user: 6 }
  - stage: split_sequences
    with: { max_len: 5, apply_threshold: false }
  - stage: reward_stats
    with: { per_split: true, batch_metrics: false }
  - stage: comparison_table
    with: { metrics: [reward_mean, reward_std], split: test }
`;

const GRID = 'stages.0.with.reward_noise=0.05,0.3';
const REPLICATES = [
  { name: 'seed-1__reward_noise-0.05', seed: 1, noise: '0.05' },
  { name: 'seed-2__reward_noise-0.05', seed: 2, noise: '0.05' },
  { name: 'seed-1__reward_noise-0.3', seed: 1, noise: '0.3' },
  { name: 'seed-2__reward_noise-0.3', seed: 2, noise: '0.3' },
];

let dir: string;
let file: string;
let out: string;

beforeAll(() => {
  dir = tmpDir('sweep');
  file = path.join(dir, 'small.yaml');
  out = path.join(dir, 'sweep');
  fs.writeFileSync(file, PIPELINE);
});
afterAll(removeTmpDirs);

const readRecord = (): SweepRecord => JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8')) as SweepRecord;

/** metrics.jsonl without timing records (rates and durations differ between any two runs). */
const TIMING = /"metric":"[^"]*(_per_s|_ms|seconds|elapsed)[^"]*"/;
const metricLines = (d: string) =>
  fs
    .readFileSync(path.join(d, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !TIMING.test(l));

/** The CLI in this process (the coordinator; replicates still run in worker processes): exit code and output. */
async function inProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(args);
    const text = (spy: typeof stdout) => spy.mock.calls.map((c) => String(c[0])).join('');
    return { code, out: text(stdout), err: text(stderr) };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/** `recpost run` as a user would type it for one replicate alone. */
async function runAlone(seed: number, set: string, outDir: string): Promise<void> {
  const r = await inProcess(['run', file, '--seed', String(seed), '--set', set, '--out', outDir, '--quiet']);
  expect([r.code, r.err]).toEqual([0, '']);
}

/** The test split's reward_mean of a run (the value the table averages). */
function testRewardMean(d: string): number {
  const rec = metricLines(d)
    .map((l) => JSON.parse(l) as { split: string; metric: string; value: number })
    .find((r) => r.split === 'test' && r.metric === 'reward_mean');
  return rec!.value;
}

describe('recpost run --seeds --grid', () => {
  it('runs each replicate as the same run made alone, and tabulates mean ± std over seeds per grid point', async () => {
    const r = await recpost(['run', file, '--seeds', '1,2', '--grid', GRID, '--workers', '2', '--out', out]);
    expect(r.err).not.toMatch(/failed: /);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`sweep: 4 replicate(s) of small into ${out}: 4 to run on 2 local worker(s)`);
    expect(r.err).toContain('sweep: 4/4 done, 0 running, 0 failed — ');
    const record = readRecord();
    expect(record.replicates.map((x) => [x.name, x.seed, x.status, x.grid])).toEqual(
      REPLICATES.map((x) => [x.name, x.seed, 'succeeded', { 'stages.0.with.reward_noise': Number(x.noise) }]),
    );
    expect(record.counts).toEqual({ total: 4, succeeded: 4, skipped: 0, failed: 0 });
    expect(record.engine).toEqual({ kind: 'local', slots: 2 });
    for (const x of record.replicates) expect(x.wall_s).toBeGreaterThan(0);

    const means: number[] = [];
    for (const x of REPLICATES) {
      const alone = path.join(dir, 'alone', x.name);
      await runAlone(x.seed, `stages.0.with.reward_noise=${x.noise}`, alone);
      const replicate = path.join(out, x.name);
      expect(metricLines(replicate)).toEqual(metricLines(alone));
      expect(metricLines(replicate).length).toBeGreaterThan(20);
      expect(fs.readFileSync(path.join(replicate, 'comparison.md'), 'utf8')).toBe(fs.readFileSync(path.join(alone, 'comparison.md'), 'utf8'));
      const runJson = JSON.parse(fs.readFileSync(path.join(replicate, 'run.json'), 'utf8')) as { status: string; overrides: string[]; seeds: number[] };
      expect(runJson.status).toBe('succeeded');
      expect(runJson.overrides).toEqual([`stages.0.with.reward_noise=${x.noise}`, `--seed=${x.seed}`, `--out=${replicate}`]);
      means.push(testRewardMean(alone));
    }
    // The table: mean and sample std (n − 1) of the replicates' test reward_mean, per grid point.
    const cell = (a: number, b: number) => `${((a + b) / 2).toFixed(4)} ± ${(Math.abs(a - b) / Math.SQRT2).toFixed(4)}`;
    const table = fs.readFileSync(path.join(out, 'sweep.md'), 'utf8');
    expect(r.out).toBe(table);
    expect(table).toContain('### Sweep of small: seeds 1, 2 × reward_noise ∈ {0.05, 0.3}');
    expect(table).toMatch(
      new RegExp(
        `^\\| reward_stats \\[reward_noise=0\\.05\\] \\| 2 \\| (\\*\\*)?${cell(means[0]!, means[1]!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\*\\*)? \\|`,
        'm',
      ),
    );
    expect(table).toMatch(
      new RegExp(
        `^\\| reward_stats \\[reward_noise=0\\.3\\] \\| 2 \\| (\\*\\*)?${cell(means[2]!, means[3]!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\*\\*)? \\|`,
        'm',
      ),
    );
    const rows = record.table!.rows;
    expect(rows.map((x) => [x.label, x.method, x.point, x.n])).toEqual([
      ['reward_stats [reward_noise=0.05]', 'reward_stats', 'reward_noise=0.05', 2],
      ['reward_stats [reward_noise=0.3]', 'reward_stats', 'reward_noise=0.3', 2],
    ]);
    expect(rows[0]!.cells.reward_mean!.mean).toBeCloseTo((means[0]! + means[1]!) / 2, 12);
  }, 120_000);

  it('skips complete replicates on a rerun and runs only what is missing', async () => {
    const before = fs.readFileSync(path.join(out, REPLICATES[0]!.name, 'metrics.jsonl'), 'utf8');
    const runJsonBefore = fs.readFileSync(path.join(out, REPLICATES[0]!.name, 'run.json'), 'utf8');
    const again = await inProcess(['run', file, '--seeds', '1,2', '--grid', GRID, '--workers', '2', '--out', out]);
    expect(again.code).toBe(0);
    for (const x of REPLICATES) expect(again.err).toContain(` — ${x.name} was complete (run.json succeeded with the same pipeline): skipped`);
    expect(again.err).not.toContain('to run on');
    expect(readRecord().counts).toEqual({ total: 4, succeeded: 0, skipped: 4, failed: 0 });
    expect(fs.readFileSync(path.join(out, REPLICATES[0]!.name, 'metrics.jsonl'), 'utf8')).toBe(before);
    expect(fs.readFileSync(path.join(out, REPLICATES[0]!.name, 'run.json'), 'utf8')).toBe(runJsonBefore);
    expect(again.out).toBe(fs.readFileSync(path.join(out, 'sweep.md'), 'utf8'));

    // One replicate's record gone: only it runs; its numbers come out the same.
    const lost = path.join(out, REPLICATES[3]!.name);
    const lines = metricLines(lost);
    fs.rmSync(path.join(lost, 'run.json'));
    const third = await inProcess(['run', file, '--seeds', '1,2', '--grid', GRID, '--out', out, '--quiet']);
    expect(third.code).toBe(0);
    expect(third.err).toBe('');
    expect(readRecord().counts).toEqual({ total: 4, succeeded: 1, skipped: 3, failed: 0 });
    expect(readRecord().engine).toEqual({ kind: 'local', slots: 1 });
    expect(metricLines(lost)).toEqual(lines);
  }, 120_000);

  it('reports failed replicates by name with their error, finishes the others, and exits 2 for configuration mistakes', async () => {
    const failOut = path.join(dir, 'failing');
    const r = await inProcess([
      'run',
      file,
      '--seeds',
      '1',
      '--grid',
      'stages.0.with.reward_noise=0.05,-1',
      '--grid',
      'stages.0.with.preset=medium,nope',
      '--out',
      failOut,
      '--workers',
      '2',
    ]);
    expect(r.code).toBe(2);
    const invalid = `${file}: stages[0] (stage "simulate_recsim"): field "reward_noise" must be ≥ 0, got -1`;
    const unknownPreset =
      /^recpost: sweep: seed-1__reward_noise-0\.05__preset-nope: stage "simulate_recsim" \(stages\[0\]\): unknown recsim preset "nope": .*$/m;
    expect(r.err).toContain(`recpost: sweep: 3 of 4 replicate(s) failed (see ${path.join(failOut, 'sweep.json')})\n`);
    expect(r.err).toContain(`recpost: sweep: seed-1__reward_noise--1__preset-medium: ${invalid}\n`);
    expect(r.err).toContain(`recpost: sweep: seed-1__reward_noise--1__preset-nope: ${invalid}\n`);
    expect(r.err).toMatch(unknownPreset);
    // Progress names each failure as it happens.
    expect(r.err).toMatch(/^warning: sweep: \d\/4 done, \d running, \d failed — seed-1__reward_noise-0\.05__preset-nope failed: stage "simulate_recsim"/m);
    const record = JSON.parse(fs.readFileSync(path.join(failOut, 'sweep.json'), 'utf8')) as SweepRecord;
    expect(record.status).toBe('failed');
    expect(record.replicates.map((x) => [x.name, x.status, x.exit_code])).toEqual([
      ['seed-1__reward_noise-0.05__preset-medium', 'succeeded', undefined],
      ['seed-1__reward_noise-0.05__preset-nope', 'failed', 2],
      ['seed-1__reward_noise--1__preset-medium', 'failed', 2],
      ['seed-1__reward_noise--1__preset-nope', 'failed', 2],
    ]);
    // The replicate that ran is in the table; the run that failed in its worker left a failed run.json.
    expect(r.out).toMatch(/^\| reward_stats \[reward_noise=0\.05, preset=medium\] \| 1 \| /m);
    expect(r.out.match(/^\| reward_stats/gm)).toHaveLength(1);
    const failedRun = JSON.parse(fs.readFileSync(path.join(failOut, 'seed-1__reward_noise-0.05__preset-nope', 'run.json'), 'utf8')) as { status: string };
    expect(failedRun.status).toBe('failed');
  }, 120_000);

  it('gives a replicate that ran second in a reused worker process the same training numbers as a fresh run', async () => {
    const training = path.join(dir, 'training.yaml');
    fs.writeFileSync(
      training,
      `name: training
stages:
  - stage: simulate_recsim
    with: { preset: medium, num_users: 50, num_items: 60, dim: 4, topics: 3, interactions_per_user: 6 }
  - stage: split_sequences
    with: { max_len: 5, apply_threshold: false }
  - stage: reward_stats
    with: { barrier: true, batch_metrics: false }
  - stage: train_gaussian
    id: drpo
    with: { objective: { name: drpo, rho: 0.5 }, epochs: 2, batch_size: 64, log_every: 1 }
  - stage: comparison_table
    with: { metrics: [loss, nll], split: train }
`,
    );
    const sweepOut = path.join(dir, 'training-sweep');
    const r = await inProcess(['run', training, '--seeds', '1,2', '--workers', '1', '--out', sweepOut, '--quiet']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/^\| drpo \| 2 \| /m);
    const record = JSON.parse(fs.readFileSync(path.join(sweepOut, 'sweep.json'), 'utf8')) as SweepRecord;
    // Both replicates ran in the one worker process, seed 2 after seed 1.
    expect(new Set(record.replicates.map((x) => x.worker)).size).toBe(1);
    const alone = path.join(dir, 'training-alone');
    const a = await inProcess(['run', training, '--seed', '2', '--out', alone, '--quiet']);
    expect(a.code).toBe(0);
    const trained = metricLines(path.join(sweepOut, 'seed-2'));
    expect(trained.filter((l) => l.includes('"metric":"loss"')).length).toBeGreaterThan(2);
    expect(trained).toEqual(metricLines(alone));
  }, 120_000);

  it('refuses bad sweep flags with one line and exit 2 before running anything', async () => {
    const cases: [string[], string][] = [
      [['--grid', 'lambda'], 'recpost: --grid expects path=v1,v2,…, got "lambda"\n'],
      [['--grid', 'stages.0.with.x=1,1'], 'recpost: --grid stages.0.with.x=1,1: the value 1 is listed twice\n'],
      [['--seeds', '1,a'], 'recpost: --seeds expects a comma-separated list of integers, got "1,a"\n'],
      [['--seeds', '1,2', '--seed', '4'], 'recpost: --seed and --seeds cannot be combined: --seeds gives each replicate its seed\n'],
      [['--seeds', '1', '--workers', '0'], 'recpost: --workers must be a positive integer, got "0"\n'],
    ];
    const bad = path.join(dir, 'never');
    for (const [args, message] of cases) {
      const r = await inProcess(['run', file, ...args, '--out', bad]);
      expect([r.code, r.err, r.out]).toEqual([2, message, '']);
    }
    // The same as a real process.
    const child = await recpost(['run', file, ...cases[0]![0], '--out', bad]);
    expect([child.code, child.err, child.out]).toEqual([2, cases[0]![1], '']);
    expect(fs.existsSync(bad)).toBe(false);
  }, 60_000);
});
