/**
 * Registers every task kind recpost runs on an engine: each line imports a
 * module whose top level calls registerTaskKind (or registers here). Worker
 * processes (local ones and `recpost worker`s) load this file by its
 * location (engine/catalog-location.ts) rather than by a static import, so
 * the engine stays a generic runner that imports none of the code it runs,
 * and the folders that define tasks (plan/, sweep/) can import the engine
 * without a cycle.
 */
import './engine/builtin-tasks.js';
import './sweep/replicate-task.js';
import { registerTaskKind } from './engine/task-registry.js';
import { runShardTask, SHARD_TASK_KIND } from './plan/shard-task.js';
import { INGEST_ENCODE_KIND, INGEST_SCAN_KIND, runIngestEncodeTask, runIngestScanTask } from './plan/ingest-plan.js';

registerTaskKind(SHARD_TASK_KIND, runShardTask);
registerTaskKind(INGEST_SCAN_KIND, runIngestScanTask);
registerTaskKind(INGEST_ENCODE_KIND, runIngestEncodeTask);
