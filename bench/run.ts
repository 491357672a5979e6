/**
 * `npm run bench [-- --quick] [-- --only ingest,stats]`: runs every suite
 * (bench/<suite>.ts exporting run(opts)), prints a Markdown table of the
 * figures (the README's benchmark table is pasted from it) and writes them to
 * .bench/results.json. Benchmarks are scripts, never tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchOptions, BenchResult } from './common.js';
import { formatCount } from '../stages/core/progress.js';

const SUITES = ['ingest', 'stats', 'weighting', 'train', 'eval', 'large-catalog', 'scaling'] as const;

/** A rate with its unit; ratios (×) with two decimals, where formatCount would round 1.1 to 1. */
function formatRate(r: BenchResult): string {
  return r.unit === '×' ? `${r.rate.toFixed(2)}×` : `${formatCount(r.rate)} ${r.unit ?? 'rows/s'}`;
}

function table(results: BenchResult[]): string {
  const lines = ['| suite | workload | rows | seconds | rate | peak RSS MB | target | met |', '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |'];
  for (const r of results) {
    lines.push(
      `| ${r.suite} | ${r.name} | ${formatCount(r.rows)} | ${r.seconds.toFixed(2)} | ${formatRate(r)} | ${r.peakRssMB !== undefined ? r.peakRssMB.toFixed(0) : '—'} | ${r.target ?? '—'} | ${r.met === undefined ? '—' : r.met ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((a) => a.startsWith('--only'));
  const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1]! : argv[argv.indexOf(onlyArg) + 1]!).split(',') : [...SUITES];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-bench-'));
  const opts: BenchOptions = { quick, scratch };
  const results: BenchResult[] = [];
  process.stderr.write(
    `bench: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}${quick ? ', quick sizes' : ''}\n`,
  );
  try {
    for (const suite of SUITES) {
      if (!only.includes(suite)) continue;
      const here = path.dirname(new URL(import.meta.url).pathname);
      const file = ['.js', '.ts'].map((ext) => path.join(here, `${suite}${ext}`)).find((f) => fs.existsSync(f));
      if (!file) {
        process.stderr.write(`bench: no suite ${suite}\n`);
        continue;
      }
      process.stderr.write(`bench: ${suite}…\n`);
      const mod = (await import(file)) as { run(o: BenchOptions): Promise<BenchResult[]> };
      const rs = await mod.run(opts);
      for (const r of rs)
        process.stderr.write(
          `  ${r.name}: ${formatRate(r)}${r.peakRssMB ? `, peak ${r.peakRssMB.toFixed(0)} MB` : ''}${r.met === false ? '  (target missed)' : ''}\n`,
        );
      results.push(...rs);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  fs.mkdirSync('.bench', { recursive: true });
  fs.writeFileSync('.bench/results.json', JSON.stringify({ date: new Date().toISOString(), quick, results }, null, 2));
  process.stdout.write(`${table(results)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
