import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The TypeScript project lists stay by hand (they sit beside hand-chosen compiler options and are plain JSON,
// which carries no generated-file notice); these tests name the line a new project folder needs.
const root = join(__dirname, '..', '..', '..', '..', '..');

/** Every folder with a project.json (apps/<app>, libs/<scope>/<lib>), as jest.config.js finds them. */
function projectFolders(): string[] {
  const folders = readdirSync(join(root, 'apps')).map((name) => `apps/${name}`);
  for (const scope of readdirSync(join(root, 'libs'))) {
    folders.push(...readdirSync(join(root, 'libs', scope)).map((name) => `libs/${scope}/${name}`));
  }
  return folders.filter((folder) => existsSync(join(root, folder, 'project.json'))).sort();
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}

function configOf(folder: string): string {
  return `${folder}/${folder.startsWith('apps/') ? 'tsconfig.app.json' : 'tsconfig.lib.json'}`;
}

describe('tsconfig project lists', () => {
  it('should reference every project folder in tsconfig.build.json, and nothing else', () => {
    const listed = readJson<{ references: Array<{ path: string }> }>('tsconfig.build.json').references.map(
      (reference) => reference.path,
    );
    const expected = projectFolders().map(configOf);
    expect({
      missing: expected.filter((path) => !listed.includes(path)).map((path) => `{ "path": "${path}" }`),
      extra: listed.filter((path) => !expected.includes(path)),
    }).toEqual({ missing: [], extra: [] });
  });

  it("should map every lib's package name to its src/index.ts in tsconfig.spec.json, and nothing else", () => {
    const paths = readJson<{ compilerOptions: { paths: Record<string, string[]> } }>('tsconfig.spec.json')
      .compilerOptions.paths;
    const expected = Object.fromEntries(
      projectFolders()
        .filter((folder) => folder.startsWith('libs/'))
        .map((folder) => [readJson<{ name: string }>(`${folder}/package.json`).name, [`${folder}/src/index.ts`]]),
    );
    const names = [...new Set([...Object.keys(paths), ...Object.keys(expected)])];
    const wrong = names.filter((name) => JSON.stringify(paths[name]) !== JSON.stringify(expected[name]));
    expect(
      wrong.map((name) => (expected[name] === undefined ? `extra "${name}"` : `"${name}": ["${expected[name][0]}"]`)),
    ).toEqual([]);
  });
});
