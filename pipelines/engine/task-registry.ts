/**
 * Task kinds by name. Every process that runs tasks (the coordinator, a
 * local worker process, a `recpost worker` on another machine) registers the
 * same kinds by importing task-catalog.ts; tests register their own kinds in
 * a module they pass to the engine (EngineOptions.modules).
 */
import type { TaskHandler } from './task.js';

const handlers = new Map<string, TaskHandler>();

export function registerTaskKind(kind: string, handler: TaskHandler): void {
  const had = handlers.get(kind);
  if (had && had !== handler) throw new Error(`task kind "${kind}" is registered twice`);
  handlers.set(kind, handler);
}

export function taskHandler(kind: string): TaskHandler {
  const h = handlers.get(kind);
  if (!h) throw new Error(`no handler for task kind "${kind}" in this worker (known: ${[...handlers.keys()].sort().join(', ') || 'none'})`);
  return h;
}

export function taskKinds(): string[] {
  return [...handlers.keys()].sort();
}
