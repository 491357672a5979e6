/**
 * The native peers recpost is compared with, measured in the same bench run on
 * the same data: DuckDB for CSV → Parquet (a devDependency, always present) and
 * PyTorch for SASRec training (only when `python3 -c 'import torch'` works:
 * `apt-get install python3-torch libopenblas0-pthread`). Each peer runs in its
 * own child process, timed from the parent as a whole process (start-up
 * included), with the child's peak RSS.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

export interface PeerRun {
  /** Whole-process wall seconds, measured by the parent. */
  wallSeconds: number;
  /** The child's own report (JSON on its last stdout line). */
  report: Record<string, unknown>;
  peakRssMB: number;
}

/** Run a command, time it as a whole process, parse its last stdout line as JSON, and read its peak RSS. */
function timedChild(cmd: string, args: string[]): Promise<PeerRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${path.basename(cmd)} exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
      const last = out.trim().split('\n').pop() ?? '{}';
      const report = JSON.parse(last) as Record<string, unknown>;
      resolve({ wallSeconds, report, peakRssMB: typeof report.peak_rss_mb === 'number' ? report.peak_rss_mb : NaN });
    });
  });
}

/** DuckDB `COPY (SELECT * FROM read_csv(…)) TO … (FORMAT parquet, COMPRESSION …)` in a child Node process. */
export function duckdbCsvToParquet(csv: string, output: string, compression: string): Promise<PeerRun> {
  return timedChild(process.execPath, [SELF, '--duckdb', JSON.stringify({ csv, output, compression })]);
}

async function duckdbChild(args: { csv: string; output: string; compression: string }): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const q = (s: string) => s.replace(/'/g, "''");
  const t0 = performance.now();
  await con.run(`COPY (SELECT * FROM read_csv('${q(args.csv)}')) TO '${q(args.output)}' (FORMAT parquet, COMPRESSION ${args.compression})`);
  const seconds = (performance.now() - t0) / 1000;
  const rows = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${q(args.output)}')`);
  const n = Number(rows.getRowObjects()[0]!.n);
  process.stdout.write(`${JSON.stringify({ rows: n, seconds, threads: os.cpus().length, peak_rss_mb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

/**
 * The first Python that can import torch (`python3` on PATH, then Debian's
 * /usr/bin/python3, which is where `apt-get install python3-torch` puts it when a
 * pyenv or venv python3 comes first on PATH); undefined when none can.
 */
export function torchPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

/**
 * Train bench/sasrec_torch.py on the same sequences as recpost's training bench.
 * `items` is the flat [n, len+1] id matrix; written as raw int32 with an [n, len+1] header.
 */
export function torchSasrec(python: string, items: Int32Array, n: number, width: number, numItems: number, epochs: number, scratch: string): Promise<PeerRun> {
  const file = path.join(scratch, `sasrec-seqs-${n}x${width}.i32`);
  const buf = new Int32Array(2 + items.length);
  buf[0] = n;
  buf[1] = width;
  buf.set(items, 2);
  fs.writeFileSync(file, Buffer.from(buf.buffer));
  const script = path.join(path.dirname(SELF), '..', '..', 'bench', 'sasrec_torch.py');
  const local = path.join(path.dirname(SELF), 'sasrec_torch.py');
  const py = fs.existsSync(local) ? local : script;
  return timedChild(python, [py, '--data', file, '--num-items', String(numItems), '--epochs', String(epochs), '--threads', String(os.cpus().length)]).finally(
    () => fs.rmSync(file, { force: true }),
  );
}

const invokedDirectly = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(SELF);
if (invokedDirectly && process.argv[2] === '--duckdb') {
  duckdbChild(JSON.parse(process.argv[3]!) as { csv: string; output: string; compression: string }).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
