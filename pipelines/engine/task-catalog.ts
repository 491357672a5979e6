/**
 * Registers every task kind recpost runs on an engine. Imported by worker
 * processes and by the coordinator; each line imports a module whose top
 * level calls registerTaskKind.
 */
import './builtin-tasks.js';
import { registerTaskKind } from './task-registry.js';
import { runShardTask, SHARD_TASK_KIND } from '../plan/shard-task.js';
import { INGEST_ENCODE_KIND, INGEST_SCAN_KIND, runIngestEncodeTask, runIngestScanTask } from '../plan/ingest-plan.js';

registerTaskKind(SHARD_TASK_KIND, runShardTask);
registerTaskKind(INGEST_SCAN_KIND, runIngestScanTask);
registerTaskKind(INGEST_ENCODE_KIND, runIngestEncodeTask);
