// The dependency check's logic: cruise sources with the rules of
// .dependency-cruiser.cjs (through dependency-cruiser's API: its command line
// refuses Node 20) and split the violations into failures and known folder
// cycles. test/check-dependencies.mjs runs it on the repository.
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
export const config = require('../.dependency-cruiser.cjs');

const names = (cycle) => (cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name));
const sameFolders = (a, b) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** One violation as a line: rule, from → to, and the cycle if any. */
export function describeViolation(v) {
  return `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${names(v.cycle).join(' → ')})` : ''}`;
}

/**
 * @param {string[]} sources files and folders to cruise, relative to baseDir
 * @param {{ baseDir?: string, tsConfig?: string | null }} [where]
 */
export async function checkDependencies(sources, where = {}) {
  const { tsConfig, ...options } = config.options;
  const result = await cruise(sources, {
    ...options,
    ...(where.tsConfig === null ? {} : { tsConfig: where.tsConfig ? { fileName: where.tsConfig } : tsConfig }),
    ...(where.baseDir ? { baseDir: where.baseDir } : {}),
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  });
  const failures = [];
  const known = [];
  for (const v of result.output.summary.violations) {
    const folders = [...new Set([v.from, ...names(v.cycle)])];
    const isKnown = v.rule.name === 'no-folder-cycle' && config.knownFolderCycles.some((k) => sameFolders(k.folders, folders));
    (isKnown ? known : failures).push(v);
  }
  const { totalCruised, totalDependenciesCruised } = result.output.summary;
  return { failures, known, modules: totalCruised, imports: totalDependenciesCruised };
}
