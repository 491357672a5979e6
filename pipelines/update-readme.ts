/** `npm run docs`: regenerate the README's stage reference from the code. */
import * as fs from 'node:fs';
import { updateReadme } from './stage-docs.js';

const file = process.argv[2] ?? 'README.md';
fs.writeFileSync(file, updateReadme(fs.readFileSync(file, 'utf8')));
process.stderr.write(`updated the stage reference in ${file}\n`);
