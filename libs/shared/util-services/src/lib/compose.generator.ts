import { GENERATED_NOTICE, linesOf } from './generated-notice';
import { backendServices, clusterServiceUrl, edgeService } from './services.query';
import type { BackendServiceDefinition, EdgeServiceDefinition, ServicesManifest } from './services.types';

/** The override file that adds team mode's state to docker-compose.yml. */
export const TEAM_COMPOSE_FILE = 'docker-compose.team.yml';

/** The named volume of the edge's /app/data (the image's VOLUME): team mode's SQLite file, kept across `up`s. */
const EDGE_DATA_VOLUME = 'gateway-data';

/** The database and role docker-compose.team.yml creates for the gateway. */
const TEAM_DATABASE = 'gateway';
/** Compose fills it from .env and refuses to start without it. */
const PASSWORD = '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env (letters and digits)}';

const header = (image: string): string[] => [
  `# ${GENERATED_NOTICE}`,
  '# The services on one host: `cp .env.example .env && docker compose up -d` (gateway on host port 13000,',
  '# like the original). Services reach each other by service name; only the gateway publishes a port.',
  `# Team mode's state in PostgreSQL and Redis: add ${TEAM_COMPOSE_FILE} (its first lines tell how).`,
  'x-service: &service',
  `  image: ${image}:latest`,
  '  build: .',
  '  env_file: [.env]',
  '  read_only: true',
  '  tmpfs: [/tmp]',
  '  cap_drop: [ALL]',
  "  security_opt: ['no-new-privileges:true']",
  '  restart: unless-stopped',
  '  stop_grace_period: 40s',
  '  healthcheck:',
  "    test: ['CMD', 'node', '/app/tools/containers/healthcheck.js']",
  '    interval: 10s',
  '    timeout: 3s',
  '    start_period: 20s',
  '    retries: 3',
  '',
  'services:',
];

function backendLines(service: BackendServiceDefinition): string[] {
  return [
    `  ${service.name}:`,
    '    <<: *service',
    `    environment: { APP: ${service.name}, PORT: '${service.port}' }`,
  ];
}

function edgeLines(edge: EdgeServiceDefinition, backends: readonly BackendServiceDefinition[]): string[] {
  return [
    `  ${edge.name}:`,
    '    <<: *service',
    '    environment:',
    `      APP: ${edge.name}`,
    `      PORT: '${edge.port}'`,
    ...backends.map((service) => `      ${service.urlVariable}: ${clusterServiceUrl(service)}`),
    `    ports: ['${edge.publishedPort}:${edge.port}']`,
    "    # Team mode's default SQLite database (DATABASE_URL unset); docker-compose.team.yml uses PostgreSQL instead.",
    `    volumes: ['${EDGE_DATA_VOLUME}:/app/data']`,
    '    depends_on:',
    ...backends.map((service) => `      ${service.name}: { condition: service_healthy }`),
  ];
}

/** What docker-compose.yml's services apply to PostgreSQL and Redis too: read-only, no capabilities, restarts. */
const STATE_HARDENING: readonly string[] = [
  '    read_only: true',
  '    cap_drop: [ALL]',
  "    security_opt: ['no-new-privileges:true']",
  '    restart: unless-stopped',
  '    networks: [team-state]',
];

function stateHealthcheckLines(test: readonly string[]): string[] {
  return [
    '    healthcheck:',
    `      test: [${test.map((word) => `'${word}'`).join(', ')}]`,
    '      interval: 5s',
    '      timeout: 3s',
    '      start_period: 30s',
    '      retries: 5',
  ];
}

const teamHeader: readonly string[] = [
  `# ${GENERATED_NOTICE}`,
  '# Team mode with shared state: PostgreSQL (gateway keys and the usage ledger) and Redis (limits), on a network',
  '# of their own that only the gateway joins. An override file, not a Compose profile: a profile cannot change the',
  "# gateway's environment or what it waits for. Set POSTGRES_PASSWORD (letters and digits) in .env, then",
  `#   docker compose -f docker-compose.yml -f ${TEAM_COMPOSE_FILE} up -d`,
  `# or put COMPOSE_FILE=docker-compose.yml:${TEAM_COMPOSE_FILE} in .env and run \`docker compose up -d\`.`,
  '# GATEWAY_KEYS in .env still switches team mode on (off by default); the data lives in the team-postgres volume.',
];

function postgresLines(): string[] {
  return [
    '  postgres:',
    '    image: postgres:16-alpine',
    '    user: postgres',
    '    environment:',
    `      POSTGRES_USER: ${TEAM_DATABASE}`,
    `      POSTGRES_DB: ${TEAM_DATABASE}`,
    `      POSTGRES_PASSWORD: '${PASSWORD}'`,
    '    volumes: [team-postgres:/var/lib/postgresql/data]',
    '    tmpfs: [/tmp, /var/run/postgresql]',
    ...STATE_HARDENING,
    ...stateHealthcheckLines(['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', TEAM_DATABASE, '-d', TEAM_DATABASE]),
  ];
}

function redisLines(): string[] {
  return [
    '  redis:',
    '    image: redis:7-alpine',
    '    user: redis',
    '    # Limits only (what lasts is in PostgreSQL): no snapshots, no append-only file.',
    "    command: ['redis-server', '--save', '', '--appendonly', 'no']",
    ...STATE_HARDENING,
    ...stateHealthcheckLines(['CMD', 'redis-cli', '-h', '127.0.0.1', 'ping']),
  ];
}

function teamEdgeLines(edge: EdgeServiceDefinition): string[] {
  return [
    `  ${edge.name}:`,
    '    environment:',
    `      DATABASE_URL: 'postgres://${TEAM_DATABASE}:${PASSWORD}@postgres:5432/${TEAM_DATABASE}'`,
    '      REDIS_URL: redis://redis:6379',
    '    networks: [default, team-state]',
    '    depends_on:',
    '      postgres: { condition: service_healthy }',
    '      redis: { condition: service_healthy }',
  ];
}

/** docker-compose.team.yml: PostgreSQL and Redis for team mode, the gateway pointed at them and waiting for them. */
export function composeTeamFile(manifest: ServicesManifest): string {
  return linesOf([
    ...teamHeader,
    'services:',
    ...postgresLines(),
    ...redisLines(),
    ...teamEdgeLines(edgeService(manifest)),
    '',
    'networks:',
    '  # No way out: PostgreSQL and Redis talk to the gateway only.',
    '  team-state: { internal: true }',
    '',
    'volumes:',
    '  team-postgres: {}',
  ]);
}

/** docker-compose.yml: one container per service from the one image, the gateway published. */
export function composeFile(manifest: ServicesManifest): string {
  const backends = backendServices(manifest);
  return linesOf([
    ...header(manifest.image),
    ...backends.flatMap(backendLines),
    ...edgeLines(edgeService(manifest), backends),
    '',
    'volumes:',
    `  ${EDGE_DATA_VOLUME}: {}`,
  ]);
}
