/**
 * The smoke configuration of paper 002's experiment (pipelines/experiments/paper002-smoke.yaml):
 * every Table 1 method, the online mix and a noisy log run end to end and the comparison
 * table has one finite row per method.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { resolvePipeline } from '../../pipelines/spec.js';
import { runPipeline } from '../../pipelines/runner.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { initBackend } from '../../stages/train/backend.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const METHODS = ['bc', 'bppo', 'crr', 'awr', 'asymre', 'adaptive_bc', 'apg', 'iql', 'drpo', 'drpo_exp', 'drpo_q', 'drpo_online'].map((m) => `${m}@noise=0`);

describe('paper 002 experiment (smoke configuration)', () => {
  it('runs every method and writes a table of finite true rewards', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p002-smoke-'));
    try {
      const file = 'pipelines/experiments/paper002-smoke.yaml';
      const raw = YAML.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      const p = resolvePipeline({ ...raw, out_dir: dir }, file);
      const res = await runPipeline(p, { outDir: dir, logger: memoryLogger() });
      const table = fs.readFileSync(path.join(dir, 'table.md'), 'utf8');
      for (const m of [...METHODS, 'bc@noise=0.4', 'drpo@noise=0.4']) {
        const row = table.split('\n').find((l) => l.startsWith(`| ${m} `) || l.startsWith(`| ${m} (baseline)`));
        expect(row, m).toBeDefined();
        const numbers = row!
          .split('|')
          .slice(3, 5)
          .map((c) => Number.parseFloat(c.replace(/\*/g, '').trim()));
        expect(numbers.length, m).toBe(2);
        for (const v of numbers) {
          expect(Number.isFinite(v), `${m}: ${row}`).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }
      // The critic-based methods fitted a critic; BPPO reports its clip fraction; DRPO its phantom gradient.
      const train = res.metrics.filter((r) => r.split === 'train');
      for (const m of ['bppo', 'crr', 'iql', 'drpo_q']) expect(train.some((r) => r.method === `${m}@noise=0` && r.metric === 'critic_q_mse')).toBe(true);
      expect(train.some((r) => r.method === 'bppo@noise=0' && r.metric === 'clip_frac' && Number.isFinite(r.value))).toBe(true);
      expect(train.some((r) => r.method === 'drpo@noise=0' && r.metric === 'phantom_grad_norm')).toBe(true);
      // The offline-to-online run reports Fig. 4's online data ratio (a share in [0, 1]); the offline runs do not.
      const shares = train.filter((r) => r.metric === 'online_kept_share');
      expect(shares.length).toBeGreaterThan(0);
      expect(shares.every((r) => r.method === 'drpo_online@noise=0' && r.value >= 0 && r.value <= 1)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
