import { dockerfile } from './dockerfile.generator';
import { SERVICES_MANIFEST } from './services.manifest';

const lines = dockerfile(SERVICES_MANIFEST).split('\n');
const indexOf = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));

describe(dockerfile.name, () => {
  it('should build better-sqlite3, the one dependency whose install script team mode needs', () => {
    const install = lines[indexOf(/^RUN npm ci /)] ?? '';
    expect(install).toContain('--ignore-scripts');
    expect(install).toContain('npm rebuild better-sqlite3');
  });

  it("should give the runtime user a /app/data volume for team mode's SQLite file, before switching to that user", () => {
    const made = indexOf(/^RUN mkdir -p \/app\/data && chown 1000:1000 \/app\/data$/);
    const volume = indexOf(/^VOLUME \/app\/data$/);
    const user = indexOf(/^USER 1000$/);
    expect(made).toBeGreaterThan(indexOf(/^COPY --from=build /));
    expect([made < volume, volume < user]).toEqual([true, true]);
  });
});
