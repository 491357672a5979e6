/**
 * Task kinds of the engine itself.
 * - `engine.ping`: returns the worker's name; engines use it to check that
 *   workers start and can import the catalog.
 */
import { registerTaskKind } from './task-registry.js';

registerTaskKind('engine.ping', async (_input, ctx) => ({ worker: ctx.worker }));
