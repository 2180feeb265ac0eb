import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES_MANIFEST } from '@openai-proxy/util-services';
import { GATEWAY_ENV_ALIASES, gatewayEnvShape } from '../src/config/gateway.env';
// The configuration table covers every app's schema.
import { OPENAI_RELAY_ENV_ALIASES, openAiRelayEnvShape } from '../../openai-relay/src/config/openai-relay.env';
import { CLAUDE_BRIDGE_ENV_ALIASES, claudeBridgeEnvShape } from '../../claude-bridge/src/config/claude-bridge.env';
import { BARD_BRIDGE_ENV_ALIASES, bardBridgeEnvShape } from '../../bard-bridge/src/config/bard-bridge.env';

const root = join(__dirname, '..', '..', '..');

/** Each README's configuration section: from its heading to the next section's (whole lines: `### 配置…` is not it). */
const SECTIONS = [
  { readme: 'README.md', from: '\n## Configuration\n', to: '\n## How it behaves\n' },
  { readme: 'README.zh-CN.md', from: '\n## 配置\n', to: '\n## 行为说明\n' },
] as const;

/**
 * Variables read outside the services' schemas, each with the file that reads it (checked to name it): the
 * launcher's, the container image's and the keys CLI's.
 */
const TOOL_VARIABLES: Readonly<Record<string, string>> = {
  LOG_FORMAT: 'tools/scripts/launch/log-lines.mjs',
  LAUNCHER_RESTART_MAX_MS: 'tools/scripts/launch.mjs',
  APP: 'tools/containers/entrypoint.sh',
  GATEWAY_URL: 'tools/scripts/keys.mjs',
};

/** Every variable a service reads: its schema's names and the other spellings it accepts. */
function serviceVariables(): Set<string> {
  const shapes = [gatewayEnvShape, openAiRelayEnvShape, claudeBridgeEnvShape, bardBridgeEnvShape];
  const aliases = [GATEWAY_ENV_ALIASES, OPENAI_RELAY_ENV_ALIASES, CLAUDE_BRIDGE_ENV_ALIASES, BARD_BRIDGE_ENV_ALIASES];
  return new Set([
    ...shapes.flatMap((shape) => Object.keys(shape)),
    ...aliases.flatMap((table) => Object.values(table).flat()),
  ]);
}

/** The variables named in the first column of a README's configuration table. */
function tableVariables(readme: string, from: string, to: string): Set<string> {
  const text = readFileSync(join(root, readme), 'utf8');
  const start = text.indexOf(from);
  const end = text.indexOf(to, start);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  const rows = text
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  const firstCells = rows.map((row) => row.split(' | ')[0] ?? '');
  return new Set(
    firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1] ?? '')),
  );
}

/** A lower-case proxy spelling is covered by its upper-case row ("also lower case"). */
function named(table: ReadonlySet<string>, variable: string): boolean {
  return table.has(variable) || (variable === variable.toLowerCase() && table.has(variable.toUpperCase()));
}

describe.each(SECTIONS)('the configuration table of $readme', ({ readme, from, to }) => {
  const table = tableVariables(readme, from, to);

  it('should name every variable a service reads', () => {
    const missing = [...serviceVariables()].filter((variable) => !named(table, variable));
    expect(missing).toEqual([]);
  });

  it("should name every service's launcher port variable", () => {
    const missing = SERVICES_MANIFEST.services
      .map((service) => service.portVariable)
      .filter((name) => !table.has(name));
    expect(missing).toEqual([]);
  });

  it('should name only variables something reads', () => {
    const read = serviceVariables();
    const ports = new Set<string>(SERVICES_MANIFEST.services.map((service) => service.portVariable));
    const unknown = [...table].filter(
      (variable) => !read.has(variable) && !ports.has(variable) && !(variable in TOOL_VARIABLES),
    );
    expect(unknown).toEqual([]);
  });

  it.each(Object.entries(TOOL_VARIABLES))('should name %s, which %s reads', (variable, file) => {
    expect(readFileSync(join(root, file), 'utf8')).toContain(variable);
    expect(table.has(variable)).toBe(true);
  });
});
