import { GENERATED_NOTICE, linesOf } from './generated-notice';
import { backendServices, clusterServiceUrl, edgeService } from './services.query';
import type { BackendServiceDefinition, EdgeServiceDefinition, ServicesManifest } from './services.types';

const header = (image: string): string[] => [
  `# ${GENERATED_NOTICE}`,
  '# The services on one host: `cp .env.example .env && docker compose up -d` (gateway on host port 13000,',
  '# like the original). Services reach each other by service name; only the gateway publishes a port.',
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
    '    depends_on:',
    ...backends.map((service) => `      ${service.name}: { condition: service_healthy }`),
  ];
}

/** docker-compose.yml: one container per service from the one image, the gateway published. */
export function composeFile(manifest: ServicesManifest): string {
  const backends = backendServices(manifest);
  return linesOf([
    ...header(manifest.image),
    ...backends.flatMap(backendLines),
    ...edgeLines(edgeService(manifest), backends),
  ]);
}
