import { load } from 'js-yaml';
import { composeFile, composeTeamFile, TEAM_COMPOSE_FILE } from './compose.generator';
import { SERVICES_MANIFEST } from './services.manifest';
import { edgeService } from './services.query';

interface ComposeService {
  image?: string;
  user?: string;
  environment?: Record<string, string>;
  networks?: string[];
  ports?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean }>;
  volumes?: Record<string, unknown>;
}

const REFERENCE = /\$\{(\w+)(?::\?([^}]*))?\}/g;

/** What Compose does to `${NAME}` and `${NAME:?message}` with `env` (a missing required one stops it). */
function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(REFERENCE, (_reference, name: string, message: string | undefined) => {
    const value = env[name];
    if (value === undefined || value === '') {
      if (message !== undefined) {
        throw new Error(`${name}: ${message}`);
      }
      return '';
    }
    return value;
  });
}

const edge = edgeService(SERVICES_MANIFEST).name;
const base = load(composeFile(SERVICES_MANIFEST)) as ComposeFile;
const teamText = composeTeamFile(SERVICES_MANIFEST);
const team = load(interpolate(teamText, { POSTGRES_PASSWORD: 's3cretPassw0rd' })) as ComposeFile;
const postgres = team.services['postgres'] ?? {};
const redis = team.services['redis'] ?? {};
const gatewayOverride = team.services[edge] ?? {};

describe(composeTeamFile.name, () => {
  it('should refuse to start without POSTGRES_PASSWORD and use the same one in the database and the gateway', () => {
    expect(() => interpolate(teamText, {})).toThrow('POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env');
    const url = new URL(gatewayOverride.environment?.['DATABASE_URL'] ?? 'http://missing');
    expect(url.protocol).toBe('postgres:');
    expect({ user: url.username, password: url.password, database: url.pathname.slice(1) }).toEqual({
      user: postgres.environment?.['POSTGRES_USER'],
      password: postgres.environment?.['POSTGRES_PASSWORD'],
      database: postgres.environment?.['POSTGRES_DB'],
    });
    expect(url.password).toBe('s3cretPassw0rd');
  });

  it('should point the gateway at the postgres and redis services and wait until both are healthy', () => {
    const database = new URL(gatewayOverride.environment?.['DATABASE_URL'] ?? 'http://missing');
    const cache = new URL(gatewayOverride.environment?.['REDIS_URL'] ?? 'http://missing');
    expect([database.hostname, database.port, cache.protocol, cache.hostname, cache.port]).toEqual([
      'postgres',
      '5432',
      'redis:',
      'redis',
      '6379',
    ]);
    expect(gatewayOverride.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(postgres.healthcheck?.test).toEqual(expect.arrayContaining(['pg_isready']));
    expect(redis.healthcheck?.test).toEqual(expect.arrayContaining(['redis-cli', 'ping']));
  });

  it('should override only the gateway of docker-compose.yml and keep it on the default network', () => {
    const overridden = Object.keys(team.services).filter((name) => name in base.services);
    expect(overridden).toEqual([edge]);
    expect(gatewayOverride.networks).toEqual(['default', 'team-state']);
    expect(Object.keys(gatewayOverride).sort()).toEqual(['depends_on', 'environment', 'networks']);
  });

  it('should let only the gateway reach PostgreSQL and Redis, on an internal network, with no published port', () => {
    expect(team.networks?.['team-state']).toEqual({ internal: true });
    const members = Object.entries({ ...base.services, ...team.services })
      .filter(([, service]) => service.networks?.includes('team-state'))
      .map(([name]) => name)
      .sort();
    expect(members).toEqual([edge, 'postgres', 'redis'].sort());
    expect(postgres.networks).toEqual(['team-state']);
    expect(redis.networks).toEqual(['team-state']);
    expect([postgres.ports, redis.ports]).toEqual([undefined, undefined]);
  });

  it('should run pinned images as their non-root users, read-only and without capabilities', () => {
    expect([postgres.image, redis.image]).toEqual(['postgres:16-alpine', 'redis:7-alpine']);
    for (const service of [postgres, redis]) {
      expect({ user: service.user, readOnly: service.read_only, capDrop: service.cap_drop }).toEqual({
        user: expect.stringMatching(/^(postgres|redis)$/),
        readOnly: true,
        capDrop: ['ALL'],
      });
    }
    expect(team.volumes).toHaveProperty('team-postgres');
  });

  it("should keep the edge's default SQLite team database in a named volume at the image's /app/data", () => {
    expect(base.services[edge]?.volumes).toEqual(['gateway-data:/app/data']);
    expect(base.volumes).toHaveProperty('gateway-data');
    const backends = Object.entries(base.services).filter(([name]) => name !== edge);
    expect(backends.map(([, service]) => service.volumes)).toEqual(backends.map(() => undefined));
  });

  it('should tell at the top of both files how to switch it on', () => {
    expect(composeFile(SERVICES_MANIFEST).split('\n').slice(0, 5).join('\n')).toContain(TEAM_COMPOSE_FILE);
    expect(teamText.split('\n').slice(0, 8).join('\n')).toContain(
      `docker compose -f docker-compose.yml -f ${TEAM_COMPOSE_FILE} up -d`,
    );
  });
});
