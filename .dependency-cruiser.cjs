/**
 * Folders point one way (issue 8 item 4). `node test/check-dependencies.mjs`
 * (run first by `npm test`) cruises the sources with these rules and fails on
 * any violation that is not a listed known exception.
 */

/**
 * The stages/train modules that evaluation may import: loading a policy from a
 * checkpoint and the models themselves, never trainer plumbing. Edit this list
 * when the model registry moves (issue 8 item 2).
 */
const EVAL_MAY_IMPORT_FROM_TRAIN = [
  'stages/train/load-policy.ts',
  'stages/train/checkpoint.ts',
  'stages/train/checkpoint-recovery.ts', // which step-N directories are interrupted temporaries (find-checkpoints)
  'stages/train/checkpoint-integrity.ts',
  'stages/train/sasrec.ts',
  'stages/train/sasrec-policy.ts',
  'stages/train/gaussian-policy.ts',
  'stages/train/online-model.ts',
  'stages/train/params.ts',
  'stages/train/backend.ts', // evaluation worker threads start the evaluating thread's backend
];

/**
 * Folder cycles tolerated while someone removes them: a cycle through exactly
 * these folders is reported as known, not as a failure.
 */
const KNOWN_FOLDER_CYCLES = [];

const escape = (p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @type {import('dependency-cruiser').IConfiguration & { knownFolderCycles: { folders: string[] }[] }} */
module.exports = {
  forbidden: [
    {
      name: 'no-stages-into-pipelines',
      comment: 'The library (stages/, schemas/) never imports the pipeline runner or the CLI (pipelines/).',
      severity: 'error',
      from: { path: '^(stages|schemas)/' },
      to: { path: '^pipelines/' },
    },
    {
      name: 'no-folder-cycle',
      comment: 'No import cycle between folders (stages/<concern>, pipelines, schemas).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'eval-not-into-trainer-plumbing',
      comment: 'Evaluation imports only the policy/model modules of stages/train (EVAL_MAY_IMPORT_FROM_TRAIN).',
      severity: 'error',
      from: { path: '^stages/eval/' },
      to: { path: '^stages/train/', pathNot: `^(${EVAL_MAY_IMPORT_FROM_TRAIN.map(escape).join('|')})$` },
    },
  ],
  knownFolderCycles: KNOWN_FOLDER_CYCLES,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
