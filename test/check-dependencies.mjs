#!/usr/bin/env node
// The dependency check run first by `npm test`: the rules of
// .dependency-cruiser.cjs on the repository's sources; exit 1 on a violation
// that is not a listed known folder cycle.
import { checkDependencies, describeViolation } from './dependency-check.mjs';

const r = await checkDependencies(['index.ts', 'pipelines', 'stages', 'schemas', 'bench']);
for (const v of r.failures) process.stderr.write(`dependency check: ${describeViolation(v)}\n`);
process.stdout.write(
  `dependency check: ${r.modules} modules, ${r.imports} imports; ${r.failures.length} violation(s)${r.known.length ? `, ${r.known.length} known folder-cycle edge(s) (see .dependency-cruiser.cjs)` : ''}\n`,
);
process.exit(r.failures.length ? 1 : 0);
