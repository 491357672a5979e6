/**
 * The self-contained run report (report.html): comparison tables, every plot
 * the run wrote (SVG inline), the run record and the stage report, in one
 * file with no external resources (no scripts, stylesheets, images or fonts
 * fetched: it opens the same offline, attached to a mail, years later).
 */
import { escapeXml } from './plot/svg.js';

export interface HtmlStageRow {
  id: string;
  stage: string;
  rowsIn: number;
  rowsOut: number;
  batchesOut: number;
  busyMs: number;
}

export interface HtmlReportInput {
  title: string;
  /** Markdown tables as comparison_table writes them (title, table, caption). */
  tables: { source: string; markdown: string }[];
  /** Plain-text tables (console_table). */
  textTables: string[];
  /** SVG documents with their file names. */
  plots: { file: string; svg: string }[];
  /** The parsed run.json, when the run wrote one. */
  runRecord?: Record<string, unknown>;
  stages: HtmlStageRow[];
  generatedAt: string;
}

const esc = escapeXml;

/** Inline Markdown of a table cell: **bold**, `code`, escaped pipes. */
function inline(md: string): string {
  return esc(md.replace(/\\\|/g, '|'))
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/`([^`]+)`/g, '<code>$1</code>');
}

const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

/** A comparison_table Markdown block as HTML: heading, table (right-aligned where the Markdown says), caption. */
export function markdownTableToHtml(md: string): string {
  const out: string[] = [];
  const lines = md.split('\n');
  let i = 0;
  let caption = '';
  const headings: string[] = [];
  while (i < lines.length && !lines[i]!.trim().startsWith('|')) {
    const l = lines[i]!.trim();
    if (l.startsWith('#')) headings.push(`<h3>${inline(l.replace(/^#+\s*/, ''))}</h3>`);
    i++;
  }
  const header = lines[i] !== undefined ? cellsOf(lines[i]!) : [];
  const align = lines[i + 1] !== undefined ? cellsOf(lines[i + 1]!).map((a) => (a.endsWith(':') && !a.startsWith(':') ? 'right' : 'left')) : [];
  const rows: string[][] = [];
  for (i += 2; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l.startsWith('|')) rows.push(cellsOf(l));
    else if (/^_.*_$/.test(l)) caption = l.slice(1, -1);
  }
  out.push(...headings, '<table>');
  if (caption) out.push(`<caption>${inline(caption)}</caption>`);
  out.push(`<thead><tr>${header.map((h, j) => `<th class="${align[j] ?? 'left'}">${inline(h)}</th>`).join('')}</tr></thead>`);
  out.push('<tbody>');
  for (const r of rows) out.push(`<tr>${r.map((c, j) => `<td class="${align[j] ?? 'left'}">${inline(c)}</td>`).join('')}</tr>`);
  out.push('</tbody></table>');
  return out.join('\n');
}

/** An SVG document as an inline element: without the XML declaration and doctype. */
export function inlineSvg(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>\s*/g, '')
    .replace(/<!DOCTYPE[^>]*>\s*/gi, '')
    .trim();
}

function runRecordHtml(r: Record<string, unknown>): string {
  const pipeline = (r.pipeline ?? {}) as Record<string, unknown>;
  const git = r.git as { commit?: string; dirty?: boolean } | undefined;
  const fields: [string, unknown][] = [
    ['pipeline', pipeline.name ?? r.name],
    ['pipeline file', r.pipeline_file],
    ['seed', pipeline.seed],
    ['seeds', Array.isArray(r.seeds) ? r.seeds.join(', ') : undefined],
    ['overrides', Array.isArray(r.overrides) && r.overrides.length > 0 ? r.overrides.join(' ') : undefined],
    ['recpost', r.recpost],
    ['backend', r.backend],
    ['git commit', git?.commit ? `${git.commit}${git.dirty ? ' (modified files)' : ''}` : undefined],
    ['node', r.node],
    ['platform', r.platform],
    ['host', r.host],
    ['started', r.started_at],
    ['status', r.status],
  ];
  const deps = r.dependencies && typeof r.dependencies === 'object' ? Object.entries(r.dependencies as Record<string, string>) : [];
  const rows = fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`);
  if (deps.length > 0) rows.push(`<tr><th>dependencies</th><td>${deps.map(([k, v]) => `${esc(k)} ${esc(v)}`).join(', ')}</td></tr>`);
  return [
    '<table class="record">',
    ...rows,
    '</table>',
    `<details><summary>Resolved pipeline (run.json)</summary><pre>${esc(JSON.stringify(r.pipeline ?? r, null, 2))}</pre></details>`,
  ].join('\n');
}

function stagesHtml(stages: HtmlStageRow[]): string {
  const head = ['stage', 'kind', 'rows in', 'rows out', 'batches', 'busy s'];
  const rows = stages.map((s) => [s.id, s.stage, String(s.rowsIn), String(s.rowsOut), String(s.batchesOut), (s.busyMs / 1000).toFixed(2)]);
  return [
    '<table>',
    `<thead><tr>${head.map((h, j) => `<th class="${j < 2 ? 'left' : 'right'}">${h}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c, j) => `<td class="${j < 2 ? 'left' : 'right'}">${esc(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}',
  'table{border-collapse:collapse;margin:0.5em 0 1.5em}',
  'th,td{padding:0.25em 0.7em;border-bottom:1px solid #ddd}',
  'th{background:#f5f5f5}',
  '.right{text-align:right;font-variant-numeric:tabular-nums}',
  '.left{text-align:left}',
  'caption{caption-side:bottom;font-size:0.85em;color:#555;text-align:left;padding-top:0.4em}',
  'figure{margin:1em 0}figcaption{font-size:0.85em;color:#555}',
  'pre{background:#f7f7f7;padding:0.7em;overflow:auto}',
  'table.record th{text-align:left}',
].join('\n');

export function reportHtml(o: HtmlReportInput): string {
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${esc(o.title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${esc(o.title)}</h1>`,
    `<p class="generated">Written by recpost at ${esc(o.generatedAt)}.</p>`,
  ];
  if (o.tables.length > 0 || o.textTables.length > 0) {
    parts.push('<h2>Comparison</h2>');
    for (const t of o.tables) parts.push(`<section class="comparison" data-source="${esc(t.source)}">`, markdownTableToHtml(t.markdown), '</section>');
    for (const t of o.textTables) parts.push(`<pre class="console-table">${esc(t)}</pre>`);
  }
  if (o.plots.length > 0) {
    parts.push('<h2>Plots</h2>');
    for (const p of o.plots) parts.push('<figure>', inlineSvg(p.svg), `<figcaption>${esc(p.file)}</figcaption>`, '</figure>');
  }
  parts.push('<h2>Run</h2>');
  parts.push(o.runRecord ? runRecordHtml(o.runRecord) : '<p>No run record (run.json) in the output directory.</p>');
  if (o.stages.length > 0) parts.push('<h2>Stages</h2>', stagesHtml(o.stages));
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}
