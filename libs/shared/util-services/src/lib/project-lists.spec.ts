import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

// The TypeScript project lists stay by hand (they sit beside hand-chosen compiler options and are plain JSON,
// which carries no generated-file notice), but short: `tsconfig.build.json` names the apps and the demo's fakes
// and `tsc -b` builds what they reference; `tsconfig.spec.json` maps every provider folder with one wildcard.
// These tests name what a new project folder still needs.
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

interface ProjectConfig {
  references: Array<{ path: string }>;
}

/** Every provider folder is mapped by one wildcard: `@openai-proxy/provider-<folder>` → its src/index.ts. */
/** Scopes whose libs one `@openai-proxy/<package prefix>*` line maps (a lib there is named after its folder). */
const WILDCARDS: ReadonlyArray<{ folder: string; packagePrefix: string }> = [
  { folder: 'libs/providers', packagePrefix: '@openai-proxy/provider-' },
  { folder: 'libs/gateway', packagePrefix: '@openai-proxy/gateway-' },
];

function wildcardOf(folder: string): (typeof WILDCARDS)[number] | undefined {
  const name = folder.split('/').at(-1) ?? '';
  return WILDCARDS.find(
    (wildcard) =>
      folder === `${wildcard.folder}/${name}` &&
      readJson<{ name: string }>(`${folder}/package.json`).name === `${wildcard.packagePrefix}${name}`,
  );
}

/** The tsconfig files `tsc -b` builds from `roots`: each one and, transitively, everything it references. */
function reachable(roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  for (let next = queue.shift(); next !== undefined && seen.size < 500; next = queue.shift()) {
    if (seen.has(next) || !existsSync(join(root, next))) {
      continue;
    }
    seen.add(next);
    const folder = dirname(next);
    for (const reference of readJson<Partial<ProjectConfig>>(next).references ?? []) {
      queue.push(relative(root, join(root, folder, reference.path)));
    }
  }
  return seen;
}

describe('tsconfig project lists', () => {
  it('should build every project folder from tsconfig.build.json through the references of its projects', () => {
    const listed = readJson<ProjectConfig>('tsconfig.build.json').references.map((reference) => reference.path);
    const reached = reachable(listed);
    expect({
      unreached: projectFolders()
        .map(configOf)
        .filter((path) => !reached.has(path))
        .map((path) => `reference ${path} from the project that imports it (or list it in tsconfig.build.json)`),
      listedButMissing: listed.filter((path) => !existsSync(join(root, path))),
    }).toEqual({ unreached: [], listedButMissing: [] });
  });

  it("should map every lib's package name to its src/index.ts in tsconfig.spec.json, and nothing else", () => {
    const paths = readJson<{ compilerOptions: { paths: Record<string, string[]> } }>('tsconfig.spec.json')
      .compilerOptions.paths;
    const expected = Object.fromEntries(
      projectFolders()
        .filter((folder) => folder.startsWith('libs/'))
        .filter((folder) => wildcardOf(folder) === undefined)
        .map((folder) => [readJson<{ name: string }>(`${folder}/package.json`).name, [`${folder}/src/index.ts`]]),
    );
    for (const wildcard of WILDCARDS) {
      expected[`${wildcard.packagePrefix}*`] = [`${wildcard.folder}/*/src/index.ts`];
    }
    const names = [...new Set([...Object.keys(paths), ...Object.keys(expected)])];
    const wrong = names.filter((name) => JSON.stringify(paths[name]) !== JSON.stringify(expected[name]));
    expect(
      wrong.map((name) => (expected[name] === undefined ? `extra "${name}"` : `"${name}": ["${expected[name][0]}"]`)),
    ).toEqual([]);
  });
});
