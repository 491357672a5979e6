/**
 * Smoke test of paper 000's experiment pipeline (pipelines/experiments/paper000.yaml)
 * at a tiny size: every stage runs, and the ranking table and Table 2 hold a
 * finite number in every cell the pipeline promises.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipelineForCli } from '../../pipelines/commands/pipeline-file.js';
import { runPipeline } from '../../pipelines/runner.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Shrink every stage that costs time; the pipeline's structure is untouched. */
const TINY = [
  'stages.simulate_ratings.with.num_users=40',
  'stages.simulate_ratings.with.num_items=50',
  'stages.simulate_ratings.with.ratings_per_user_min=12',
  'stages.simulate_ratings.with.ratings_per_user_max=24',
  'stages.split_sequences.with.max_len=8',
  'stages.bc.with.epochs=1',
  'stages.bc.with.d=16',
  'stages.bc.with.blocks=1',
  'stages.bc.with.heads=1',
  'stages.bc.with.reward_hidden=8',
  'stages.bc_continued.with.epochs=1',
  'stages.rsft_linear.with.epochs=1',
  'stages.exp_rsft.with.epochs=1',
  'stages.ppo.with.updates=2',
  'stages.ppo.with.group_size=4',
  'stages.ppo.with.contexts_per_update=8',
  'stages.ppo.with.value_hidden=8',
  'stages.ppo.with.checkpoint_every=1',
  'stages.dpo.with.updates=2',
  'stages.dpo.with.contexts_per_update=8',
  'stages.dpo.with.checkpoint_every=1',
  'stages.evaluate_judge.with.samples=2',
  'stages.evaluate_judge.with.max_contexts=20',
];

/** Rows of a Markdown table: method (without " (baseline)") → its cells, by header. */
function readTable(file: string): { header: string[]; rows: Map<string, Map<string, string>> } {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('|'));
  const cells = (l: string) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const header = cells(lines[0]!);
  const rows = new Map<string, Map<string, string>>();
  for (const l of lines.slice(2)) {
    const c = cells(l);
    rows.set(c[0]!.replace(/\*/g, '').split(' ')[0]!, new Map(header.map((h, i) => [h, c[i]!])));
  }
  return { header, rows };
}

/** The mean of a cell ("0.1234", "**0.1234**", "0.1234 ± 0.0100 (+3.1%)") as a number. */
const meanOf = (cell: string | undefined) => Number((cell ?? '').replace(/\*/g, '').split(/\s/)[0]);

describe('pipelines/experiments/paper000.yaml (tiny)', () => {
  it('runs end to end: ranking table and Table 2 of finite numbers', { timeout: 60_000 }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-paper000-'));
    dirs.push(out);
    const p = await loadPipelineForCli('pipelines/experiments/paper000.yaml', { set: TINY, seed: 3, out });
    await runPipeline(p, { outDir: out, quiet: true });

    const ranking = readTable(path.join(out, 'comparison.md'));
    const rankingMetrics = ['ndcg@10', 'ndcg@50', 'hr@10', 'hr@50', 'mrr'];
    const judged = ['avg_reward', 'true_reward_top1', 'true_reward_sampled'];
    for (const m of [...rankingMetrics, ...judged]) expect(ranking.header).toContain(m);
    for (const method of ['bc', 'bc_continued', 'rsft_linear', 'exp_rsft', 'ppo', 'dpo']) {
      const row = ranking.rows.get(method);
      expect(row, method).toBeDefined();
      for (const m of [...rankingMetrics, ...judged]) expect(Number.isFinite(meanOf(row!.get(m))), `${method} ${m}: ${row!.get(m)}`).toBe(true);
      for (const m of rankingMetrics) expect(meanOf(row!.get(m))).toBeGreaterThanOrEqual(0);
      for (const m of judged) expect(meanOf(row!.get(m))).toBeGreaterThan(0); // ratings are 1..5
    }
    for (const m of rankingMetrics) expect(Number.isFinite(meanOf(ranking.rows.get('popularity')?.get(m)))).toBe(true);
    expect(fs.existsSync(path.join(out, 'comparison-final.md'))).toBe(true);

    const table2 = readTable(path.join(out, 'table2.md'));
    for (const method of ['global_mean', 'user_mean', 'item_mean', 'bc']) {
      const row = table2.rows.get(method);
      expect(row, method).toBeDefined();
      const [rmse, mae, mse] = ['reward_rmse', 'reward_mae', 'reward_mse'].map((m) => meanOf(row!.get(m)));
      expect(Number.isFinite(rmse) && Number.isFinite(mae), method).toBe(true);
      // RMSE = √MSE (to the table's 4 decimals) and MAE ≤ RMSE.
      expect(Math.abs(rmse! - Math.sqrt(mse!))).toBeLessThan(1e-3);
      expect(mae!).toBeLessThanOrEqual(rmse! + 1e-4);
    }
  });
});
