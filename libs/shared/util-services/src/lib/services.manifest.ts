import type { ServiceResources, ServiceScaling, ServicesManifest } from './services.types';

/** Every service runs with the same replicas and limits today; an entry may set its own. */
const SCALING = {
  replicas: 2,
  minReplicas: 2,
  maxReplicas: 10,
  cpuUtilization: 70,
  minAvailable: 1,
} as const satisfies ServiceScaling;

const RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '256Mi' },
} as const satisfies ServiceResources;

/**
 * The services of the product, in start order. Gateway routes and readiness, the launcher, the container
 * healthcheck and proof (tools/containers/prove.sh), docker-compose.yml, the Kubernetes base and the lint scopes
 * are derived from this list (`npm run manifest` writes the generated files), and so is each app's `PORT`
 * default; a test holds each entry's `env` to the variables its app's schema reads. Adding a service is one
 * entry here plus its app folder (and its lines in tsconfig.build.json, which a test names).
 */
export const SERVICES_MANIFEST = {
  image: 'openai-proxy/app',
  services: [
    {
      name: 'openai-relay',
      role: 'backend',
      port: 3001,
      portVariable: 'OPENAI_RELAY_PORT',
      urlVariable: 'OPENAI_RELAY_URL',
      lintScope: 'openai',
      prefixes: ['openai'],
      providers: ['openai'],
      summary: 'OpenAI relay and cost query',
      servesCompatibleProviders: true,
      env: [
        { name: 'OPENAI_API_BASE', secret: false, deployed: 'https://api.openai.com' },
        { name: 'API_BASE', secret: false },
        { name: 'OPENAI_COMPATIBLE_PROVIDERS', secret: false },
        // The config file's path; the secrets it references are read as `env:NAME`, never inline.
        { name: 'GATEWAY_CONFIG', secret: false },
      ],
      scaling: SCALING,
      resources: RESOURCES,
    },
    {
      name: 'claude-bridge',
      role: 'backend',
      port: 3002,
      portVariable: 'CLAUDE_BRIDGE_PORT',
      urlVariable: 'CLAUDE_BRIDGE_URL',
      lintScope: 'claude',
      prefixes: ['claude', 'anthropic'],
      providers: ['anthropic', 'claude.ai'],
      summary: 'Claude',
      env: [
        { name: 'ANTHROPIC_API_BASE', secret: false, deployed: 'https://api.anthropic.com' },
        { name: 'CLAUDE_WEB_BASE', secret: false, deployed: 'https://claude.ai/api' },
        { name: 'CLAUDE_BASE', secret: false },
        { name: 'ANTHROPIC_DEFAULT_MAX_TOKENS', secret: false },
        { name: 'CLAUDE_WEB_MODEL', secret: false },
        { name: 'CLAUDE_AUTO_DELETE_CONVERSATION', secret: false },
        { name: 'CLAUDE_DEFAULT_CONVERSATION_NAME', secret: false },
      ],
      scaling: SCALING,
      resources: RESOURCES,
    },
    {
      name: 'bard-bridge',
      role: 'backend',
      port: 3003,
      portVariable: 'BARD_BRIDGE_PORT',
      urlVariable: 'BARD_BRIDGE_URL',
      lintScope: 'google',
      prefixes: ['google', 'gemini'],
      providers: ['gemini', 'bard'],
      summary: 'Bard, Gemini',
      env: [
        { name: 'GEMINI_API_BASE', secret: false, deployed: 'https://generativelanguage.googleapis.com' },
        { name: 'BARD_BASE', secret: false, deployed: 'https://gemini.google.com' },
        { name: 'BARD_TOKEN_TTL_MS', secret: false },
        { name: 'BARD_CONVERSATION_TTL_MS', secret: false },
      ],
      scaling: SCALING,
      resources: RESOURCES,
    },
    {
      name: 'gateway',
      role: 'edge',
      port: 3000,
      portVariable: 'GATEWAY_PORT',
      publishedPort: 13000,
      lintScope: 'gateway',
      env: [
        { name: 'ACCESS_CONTROL_ALLOW_ORIGIN', secret: false, deployed: '*' },
        { name: 'OPENAI_COMPATIBLE_PROVIDERS', secret: false },
        // The config file's path; the secrets it references are read as `env:NAME`, never inline.
        { name: 'GATEWAY_CONFIG', secret: false },
        { name: 'RATE_LIMIT_PER_MINUTE', secret: false },
        // Team mode (README "Team gateway"): gateway keys, the keys the gateway holds, and where its state lives.
        { name: 'GATEWAY_KEYS', secret: false, deployed: 'off' },
        { name: 'GATEWAY_ADMIN_TOKEN', secret: true, deployed: '' },
        { name: 'OPENAI_API_KEY', secret: true, deployed: '' },
        { name: 'ANTHROPIC_API_KEY', secret: true, deployed: '' },
        { name: 'GEMINI_API_KEY', secret: true, deployed: '' },
        // A Postgres URL carries its password; unset: SQLite in the pod (one replica only).
        { name: 'DATABASE_URL', secret: true, deployed: '' },
        { name: 'REDIS_URL', secret: true, deployed: '' },
      ],
      scaling: SCALING,
      resources: RESOURCES,
    },
  ],
  commonEnv: [
    { name: 'SHUTDOWN_DRAIN_MS', secret: false, deployed: '25000' },
    { name: 'STREAM_HEARTBEAT_MS', secret: false, deployed: '15000' },
    { name: 'LOG_LEVEL', secret: false, deployed: 'info' },
    { name: 'UPSTREAM_CONNECT_TIMEOUT_MS', secret: false },
    { name: 'UPSTREAM_HEADERS_TIMEOUT_MS', secret: false },
    { name: 'UPSTREAM_IDLE_TIMEOUT_MS', secret: false },
    { name: 'UPSTREAM_RETRIES', secret: false },
    { name: 'UPSTREAM_RETRY_BUDGET_PERCENT', secret: false },
    { name: 'UPSTREAM_BREAKER_FAILURES', secret: false },
    { name: 'UPSTREAM_BREAKER_OPEN_MS', secret: false },
    { name: 'MAX_JSON_BODY_BYTES', secret: false },
    { name: 'MAX_RELAY_BODY_BYTES', secret: false },
    { name: 'MAX_SPOOL_BYTES', secret: false },
    { name: 'TRUST_PROXY', secret: false },
    // Egress proxy URLs may carry credentials (`http://user:password@proxy:3128`).
    { name: 'HTTPS_PROXY', secret: true, deployed: '' },
    // The egress proxy when HTTPS_PROXY is unset (`socks5://127.0.0.1:7890`); it may carry credentials too.
    { name: 'ALL_PROXY', secret: true },
    { name: 'NO_PROXY', secret: false },
  ],
} as const satisfies ServicesManifest;

/** The services, as the manifest lists them. */
export type ServiceName = (typeof SERVICES_MANIFEST.services)[number]['name'];

/** The services behind the gateway. */
export type BackendServiceName = Extract<(typeof SERVICES_MANIFEST.services)[number], { role: 'backend' }>['name'];

/** The gateway's variables for its services' URLs (`OPENAI_RELAY_URL`, …). */
export type ServiceUrlVariable = Extract<
  (typeof SERVICES_MANIFEST.services)[number],
  { role: 'backend' }
>['urlVariable'];
