#!/usr/bin/env node
// The dependency check: cruises the sources with the rules of
// .dependency-cruiser.cjs through dependency-cruiser's API (its command line
// refuses Node 20) and exits 1 on a violation that is not a known folder cycle.
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const config = require('../.dependency-cruiser.cjs');
const SOURCES = ['index.ts', 'pipelines', 'stages', 'schemas', 'bench'];

const result = await cruise(SOURCES, { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } });
const sameFolders = (a, b) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const folderSet = (v) => [...new Set([v.from, ...(v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name))])];
const known = [];
const failures = [];
for (const v of result.output.summary.violations) {
  const isKnown = v.rule.name === 'no-folder-cycle' && config.knownFolderCycles.some((k) => sameFolders(k.folders, folderSet(v)));
  (isKnown ? known : failures).push(v);
}
const describe = (v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => (typeof c === 'string' ? c : c.name)).join(' → ')})` : ''}`;
for (const v of failures) process.stderr.write(`dependency check: ${describe(v)}\n`);
const { totalCruised, totalDependenciesCruised } = result.output.summary;
process.stdout.write(
  `dependency check: ${totalCruised} modules, ${totalDependenciesCruised} imports; ${failures.length} violation(s)${known.length ? `, ${known.length} known folder-cycle edge(s) (see .dependency-cruiser.cjs)` : ''}\n`,
);
process.exit(failures.length ? 1 : 0);
