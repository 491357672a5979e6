/**
 * Runs a resolved pipeline: each stage instance is driven by the stage driver
 * (stages/core/stage-driver.ts) as a pull-based async iterable, and the runner
 * pulls the last stage's output to the end. A slow stage holds back its
 * upstream (backpressure) and memory stays bounded by the batches in flight.
 *
 * A source stage placed after the first stage starts a new phase: the stages
 * before it run to completion first (their batches are discarded), so a chain
 * can simulate files, then ingest them.
 *
 * Reports per stage: rows and batches in/out, busy time (the stage's own calls,
 * measured by the driver) and wall time. Errors name the stage that raised them
 * (`stage "drpo" (stages[3]): …`). Metric records from stages go to
 * <out_dir>/metrics.jsonl and are kept in memory for the caller; the report
 * goes to <out_dir>/report.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../stages/core/batch.js';
import type { StageContext, StageCounters, StageInstance } from '../stages/core/stage.js';
import { driveStage, withStageLabel } from '../stages/core/stage-driver.js';
import { ArtifactMap } from '../stages/core/artifacts.js';
import { stderrLogger, type Logger } from '../stages/core/logger.js';
import { metricRecord, type MetricRecord } from '../schemas/metric-record.js';
import { openMetricsLog, pipelineResumes } from './metrics-log.js';
import type { ResolvedPipeline } from './spec.js';
import { formatCount } from '../stages/core/progress.js';
import { finishRunRecord, startRunRecord, type RunRecordInput } from './run-record.js';

export interface RunOptions {
  outDir?: string;
  quiet?: boolean;
  /** Force progress on/off (default: stderr is a TTY and not quiet). */
  progress?: boolean;
  logger?: Logger;
  /** Values visible to stages through ctx.artifacts before the run starts. */
  artifacts?: ArtifactMap;
  /** Write metrics.jsonl and report.json (default true). */
  writeFiles?: boolean;
  /** Overrides and pipeline file for <out_dir>/run.json (written when writeFiles). */
  record?: RunRecordInput;
}

export interface StageReport extends StageCounters {
  id: string;
  stage: string;
  wallMs: number;
}

export interface RunResult {
  name: string;
  outDir: string;
  stages: StageReport[];
  metrics: MetricRecord[];
  artifacts: ArtifactMap;
  wallMs: number;
  instances: StageInstance[];
}

async function* noInput(): AsyncGenerator<Batch> {}

export async function runPipeline(p: ResolvedPipeline, opts: RunOptions = {}): Promise<RunResult> {
  const outDir = opts.outDir ?? p.outDir;
  const writeFiles = opts.writeFiles ?? true;
  fs.mkdirSync(outDir, { recursive: true });
  const log = opts.logger ?? stderrLogger(opts.quiet);
  const progress = opts.progress ?? (!opts.quiet && Boolean(process.stderr.isTTY));
  const artifacts = opts.artifacts ?? new ArtifactMap();
  const metrics: MetricRecord[] = [];
  const runRecord = writeFiles ? startRunRecord(p, outDir, opts.record) : undefined;
  // Appended record by record, so a kill keeps what was emitted (pipelines/metrics-log.ts).
  const metricsLog = writeFiles ? openMetricsLog(outDir, { resume: pipelineResumes(p) }) : undefined;
  const runId = p.name;

  const reports: StageReport[] = [];
  const instances: StageInstance[] = [];
  let stream: AsyncIterable<Batch> = noInput();
  const t0 = performance.now();
  try {
    for (const rs of p.stages) {
      // The report is the counters object the driver updates (StageReport extends StageCounters).
      const report: StageReport = { id: rs.id, stage: rs.def.name, wallMs: 0, rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 };
      const ctx: StageContext = {
        outDir,
        runId,
        seed: p.seed,
        log,
        progress,
        artifacts,
        counters: report,
        allMetrics: () => metrics,
        emitMetric(rec) {
          const full = metricRecord({ ...rec, run: rec.run ?? runId });
          metrics.push(full);
          metricsLog?.write(full);
        },
      };
      const label = `stage "${rs.id}" (stages[${rs.index}])`;
      let inst: StageInstance;
      try {
        inst = rs.def.create(rs.config, ctx);
      } catch (e) {
        throw withStageLabel(e, label);
      }
      instances.push(inst);
      stream = driveStage(inst, stream, {
        counters: report,
        label,
        // A source after the first stage starts a new phase: everything before it
        // runs to completion first (simulate → files → ingest, spill → reread).
        drainInputFirst: rs.def.role === 'source' && rs.index > 0,
        onOutput: () => {
          report.wallMs = performance.now() - t0;
        },
      });
      reports.push(report);
    }
    for await (const _b of stream);
  } catch (e) {
    if (runRecord) finishRunRecord(runRecord, e);
    throw e;
  } finally {
    metricsLog?.close();
  }
  const wallMs = performance.now() - t0;
  if (writeFiles) {
    const report = { name: p.name, wallMs, stages: reports };
    fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2));
  }
  if (runRecord) finishRunRecord(runRecord);
  return { name: p.name, outDir, stages: reports, metrics, artifacts, wallMs, instances };
}

/** The per-stage table printed at the end of `recpost run`. */
export function formatStageReport(r: RunResult): string {
  const rows = [['stage', 'rows in', 'rows out', 'batches', 'busy s', 'rows/s (busy)']];
  for (const s of r.stages) {
    const rate = s.busyMs > 0 ? formatCount((Math.max(s.rowsIn, s.rowsOut) * 1000) / s.busyMs) : '—';
    rows.push([s.id, formatCount(s.rowsIn), formatCount(s.rowsOut), String(s.batchesOut), (s.busyMs / 1000).toFixed(2), rate]);
  }
  const widths = rows[0]!.map((_h, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  lines.push(`total wall time ${(r.wallMs / 1000).toFixed(2)} s`);
  return lines.join('\n');
}
