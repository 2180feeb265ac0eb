import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles } from './generated-files';
import { GENERATED_NOTICE } from './generated-notice';
import { SERVICES_MANIFEST } from './services.manifest';

const root = join(__dirname, '..', '..', '..', '..', '..');
const files = generatedFiles(SERVICES_MANIFEST);

function committed(path: string): string {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return '(missing)';
  }
}

describe('generatedFiles', () => {
  it.each(files.map((file) => [file.path, file.text]))(
    'should match the committed %s when the manifest has not changed since `npm run manifest`',
    (path, text) => {
      if (committed(path) !== text) {
        throw new Error(`${path} differs from what the services manifest produces: run \`npm run manifest\``);
      }
    },
  );

  it('should start every generated file with the notice naming the manifest', () => {
    for (const file of files) {
      expect(file.text.split('\n')[0]).toMatch(new RegExp(`^(#|//) ${GENERATED_NOTICE.replace(/[`.]/g, '\\$&')}$`));
    }
  });

  it('should leave prettier nothing to change in the committed files it checks', () => {
    // Prettier's CLI in its own process (its API loads plugins through dynamic imports, which Jest's VM refuses).
    const prettier = join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
    const check = (): string =>
      execFileSync(process.execPath, [prettier, '--check', '--ignore-unknown', ...files.map((file) => file.path)], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
    expect(check).not.toThrow();
  });
});
