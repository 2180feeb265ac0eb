// `npm run manifest`: writes every file derived from the services manifest (run after building this lib).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVICES_MANIFEST, generatedFiles } from './index';

/** The repository root, from this file's place in dist/. */
const root = join(__dirname, '..', '..', '..', '..');

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

for (const file of generatedFiles(SERVICES_MANIFEST)) {
  const path = join(root, file.path);
  if (readOrEmpty(path) !== file.text) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
    process.stdout.write(`wrote ${file.path}\n`);
  }
}
