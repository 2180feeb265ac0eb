// One Jest run for the whole workspace: a project per app and lib (from each project.json), TypeScript through
// SWC (keeps Nest's decorator metadata), and `@openai-proxy/*` imports mapped to the libs' sources.
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const root = __dirname;

function projectDirectories() {
  const directories = readdirSync(join(root, 'apps')).map((name) => join('apps', name));
  for (const scope of readdirSync(join(root, 'libs'))) {
    for (const name of readdirSync(join(root, 'libs', scope))) {
      directories.push(join('libs', scope, name));
    }
  }
  return directories.filter((directory) => existsSync(join(root, directory, 'project.json')));
}

const moduleNameMapper = {};
for (const directory of projectDirectories()) {
  const manifest = JSON.parse(readFileSync(join(root, directory, 'package.json'), 'utf8'));
  if (directory.startsWith('libs')) {
    moduleNameMapper[`^${manifest.name}$`] = join(root, directory, 'src', 'index.ts');
  }
}

const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    },
  ],
};

module.exports = {
  // One PostgreSQL and one Redis for the whole run (real servers; see tools/jest/global-setup.ts).
  globalSetup: join(root, 'tools', 'jest', 'global-setup.ts'),
  globalTeardown: join(root, 'tools', 'jest', 'global-teardown.ts'),
  transform,
  projects: projectDirectories().map((directory) => ({
    displayName: JSON.parse(readFileSync(join(root, directory, 'project.json'), 'utf8')).name,
    rootDir: join(root, directory),
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
    transform,
    moduleNameMapper,
    setupFiles: [join(root, 'tools', 'jest', 'setup.js')],
  })),
};
