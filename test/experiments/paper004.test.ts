/**
 * CI smoke test of paper 004's experiment: pipelines/experiments/paper004-smoke.yaml
 * (the full pipeline's stages at one proxy quality, a tiny log, a few updates)
 * runs end to end and yields Table 1 for every method with finite numbers, the
 * proxy calibrated to its target agreement, and δ̃₀ calibrated from the pilot.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { readControlledProxy } from '../../stages/simulators/controlled-proxy.js';

const METHODS = ['grpo', 'ppo', 'dro', 'drro_hard', 'drro_soft_dynamic', 'ensemble_mean', 'ensemble_uwo', 'bspo', 'inform'].map((m) => `${m}_a86`);
const TABLE_METRICS = ['peak_gold', 'proxy_at_peak', 'gold_proxy_gap', 'kl_at_peak'];

describe('paper 004 experiment (smoke configuration)', () => {
  it('runs every method at the 85.7% proxy and reports a table of finite numbers', { timeout: 60_000 }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'paper004-'));
    try {
      const file = 'pipelines/experiments/paper004-smoke.yaml';
      const raw = YAML.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      const p = resolvePipeline({ ...raw, out_dir: out }, file);
      const res = await runPipeline(p, { outDir: out, logger: memoryLogger(), progress: false });
      const test = res.metrics.filter((r) => r.split === 'test');
      for (const method of METHODS) {
        for (const metric of TABLE_METRICS) {
          const rec = test.filter((r) => r.method === method && r.metric === metric);
          expect(rec, `${method} ${metric}`).toHaveLength(1);
          expect(Number.isFinite(rec[0]!.value), `${method} ${metric} = ${rec[0]!.value}`).toBe(true);
        }
      }
      // The markdown table has one row per method, each cell a number.
      const table = fs.readFileSync(path.join(out, 'comparison-a86.md'), 'utf8');
      for (const method of METHODS) {
        const row = table.split('\n').find((l) => l.startsWith(`| ${method}`));
        expect(row, method).toBeDefined();
        const cells = row!.split('|').slice(3, 3 + TABLE_METRICS.length);
        for (const c of cells) expect(Number.isFinite(Number.parseFloat(c.replace(/\*/g, '')))).toBe(true);
      }
      // The proxy hit its target on the pilot, and the file says so.
      const spec = readControlledProxy(path.join(out, 'proxies', 'a86.json'), 'test');
      expect(Math.abs(spec.achieved_agreement - 0.857)).toBeLessThan(0.02);
      expect(spec.sigma).toBeGreaterThan(0);
      const pilot = res.metrics.find((r) => r.metric === 'proxy_agreement_pilot' && r.method === 'proxy_a86');
      expect(pilot?.value).toBe(spec.achieved_agreement);
      // DRRO soft's δ̃₀ came from the pilot: a positive ℓ1 discrepancy.
      const delta0 = res.metrics.find((r) => r.metric === 'delta0_calibrated' && r.method === 'drro_soft_dynamic_a86');
      expect(delta0?.value).toBeGreaterThan(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
