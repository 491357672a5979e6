/** `report_html` sink: one self-contained report.html per run (tables, inline SVG plots, run record, stage report). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACT } from '../core/artifacts.js';
import { defineStage } from '../core/stage.js';
import { writeFileAtomic } from '../io/parquet.js';
import { reportHtml, type HtmlReportInput } from './report-html.js';

/** SVG files of the plots written so far in the run (artifacts "plot:<path>"), in the order they were written. */
function plotSvgs(artifacts: Map<string, unknown>, log: { warn(m: string): void }): HtmlReportInput['plots'] {
  const out: HtmlReportInput['plots'] = [];
  for (const [key, value] of artifacts) {
    if (!key.startsWith('plot:')) continue;
    const svg = (value as { svg?: unknown } | undefined)?.svg;
    if (typeof svg !== 'string') continue;
    try {
      out.push({ file: svg, svg: fs.readFileSync(svg, 'utf8') });
    } catch (e) {
      log.warn(`report_html: cannot read plot ${svg} (${(e as Error).message}); left out`);
    }
  }
  return out;
}

function readRunRecord(outDir: string): Record<string, unknown> | undefined {
  const file = path.join(outDir, 'run.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export const reportHtmlStage = defineStage({
  name: 'report_html',
  role: 'sink',
  summary: 'One self-contained report.html per run: the comparison table, every plot written (SVG inline), the run record and the stage report.',
  doc: [
    'Place it at the end of a pipeline, after comparison_table / console_table / plot. It embeds what those stages',
    'published: the comparison table ("report:comparison_table", as an HTML table with the best cells bold), the',
    'console table text, and every SVG plot written in the run ("plot:<path>" artifacts, inlined as <svg>); the run',
    'record (<out_dir>/run.json: pipeline, seeds, versions, git commit) when present; and the rows, batches and busy',
    'time of each stage before it. The file has no scripts and loads nothing (no external URLs): it opens offline.',
  ].join('\n'),
  inputs: ['metrics'],
  output: 'metrics',
  fields: {
    path: { type: 'string', doc: 'HTML file written (default <out_dir>/report.html).' },
    title: { type: 'string', doc: 'Page title (default: "recpost run <run id>").' },
  },
  create(cfg, ctx) {
    const file = cfg.path ?? path.join(ctx.outDir, 'report.html');
    return {
      process: (b) => b,
      finish() {
        const comparison = ctx.artifacts.get(ARTIFACT.reportComparisonTable);
        const consoleText = ctx.artifacts.get(ARTIFACT.reportConsoleTable);
        const stages = (ctx.artifacts.get(ARTIFACT.stageReports) ?? []).filter((s) => s.stage !== 'report_html');
        const html = reportHtml({
          title: cfg.title ?? `recpost run ${ctx.runId}`,
          tables: comparison ? [{ source: comparison.path, markdown: comparison.text }] : [],
          textTables: typeof consoleText === 'string' ? [consoleText] : [],
          plots: plotSvgs(ctx.artifacts, ctx.log),
          runRecord: readRunRecord(ctx.outDir),
          stages,
          generatedAt: new Date().toISOString(),
        });
        writeFileAtomic(file, html);
        ctx.log.info(`report_html: ${file}`);
      },
    };
  },
});
