/**
 * Where the task catalog (pipelines/task-catalog.ts) is, for worker processes
 * to import at start: task-catalog.js next to the build's pipelines/, or the
 * TypeScript source when running under tsx (tests, `npx tsx`). Loaded by
 * location so that the engine does not import the tasks it runs (see the
 * catalog's comment).
 */
export function taskCatalogUrl(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`../task-catalog.${ext}`, import.meta.url).href;
}
