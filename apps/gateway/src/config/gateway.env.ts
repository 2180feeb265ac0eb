import { z } from 'zod';
import {
  ConfigValidationError,
  type Environment,
  type PlatformSettings,
  PROXY_ALIASES,
  applyAliases,
  baseUrlSchema,
  commonEnvShape,
  configuredOpenAiCompatibleProviders,
  type GatewayConfigDocument,
  gatewayConfigPathSchema,
  readGatewayConfigDocument,
  resolveApiKeys,
  openAiCompatibleProvidersSchema,
  parseEnvironment,
  portSchema,
  providerKeyHeaders,
  toPlatformSettings,
} from '@openai-proxy/util-config';
import type { GatewaySettings } from '@openai-proxy/gateway-feature-edge';
import type { TeamSettings } from '@openai-proxy/gateway-feature-team';
import { routeTableProblems } from '@openai-proxy/gateway-util-team';
import {
  SERVICES_MANIFEST,
  type ServiceUrlVariable,
  edgeService,
  gatewayUrlDefaults,
  serviceUrlsByName,
} from '@openai-proxy/util-services';

/** Each backend's URL variable (`OPENAI_RELAY_URL`, …), by default that service on this machine at its port. */
function serviceUrlShape(): Record<ServiceUrlVariable, z.ZodDefault<typeof baseUrlSchema>> {
  return Object.fromEntries(
    [...gatewayUrlDefaults(SERVICES_MANIFEST)].map(([variable, url]) => [variable, baseUrlSchema.default(url)]),
  ) as Record<ServiceUrlVariable, z.ZodDefault<typeof baseUrlSchema>>;
}

/** A comma-separated list of provider keys (a pool); empty entries are dropped. */
const keyListSchema = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== ''),
  );

/** `sqlite:<path>` (a file, or `:memory:`) or `postgres://…` / `postgresql://…`. */
const databaseUrlSchema = z
  .string()
  .trim()
  .refine(
    (url) => /^sqlite:.+/.test(url) || /^postgres(ql)?:\/\/.+/.test(url),
    'expected sqlite:<path> or postgres://user:password@host:port/database',
  )
  .default('sqlite:./data/gateway.db');

const redisUrlSchema = z
  .string()
  .trim()
  .regex(/^rediss?:\/\/.+/, 'expected redis://host:port (or rediss:// for TLS)')
  .optional();

/** The provider keys the gateway may hold, by the provider they are for. */
const PROVIDER_KEY_VARIABLES = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
} as const;

/** The variables this app reads, with their defaults (the services manifest lists the same names). */
export const gatewayEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(edgeService(SERVICES_MANIFEST).port),
  ...serviceUrlShape(),
  OPENAI_COMPATIBLE_PROVIDERS: openAiCompatibleProvidersSchema,
  GATEWAY_CONFIG: gatewayConfigPathSchema,
  ACCESS_CONTROL_ALLOW_ORIGIN: z.string().trim().min(1).default('*'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().optional(),
  GATEWAY_KEYS: z.enum(['off', 'optional', 'required']).default('off'),
  GATEWAY_ADMIN_TOKEN: z.string().trim().min(16, 'use at least 16 characters').optional(),
  OPENAI_API_KEY: keyListSchema,
  ANTHROPIC_API_KEY: keyListSchema,
  GEMINI_API_KEY: keyListSchema,
  DATABASE_URL: databaseUrlSchema,
  REDIS_URL: redisUrlSchema,
};

/** Other spellings this app accepts for its variables. */
export const GATEWAY_ENV_ALIASES: Readonly<Record<string, readonly string[]>> = PROXY_ALIASES;

export interface GatewayConfig {
  platform: PlatformSettings;
  gateway: GatewaySettings;
  team: TeamSettings;
}

type ParsedGatewayEnv = z.infer<z.ZodObject<typeof gatewayEnvShape>>;

/**
 * Each provider's key pool: its variable's keys, then those the config file names. Read only in team mode: with
 * `GATEWAY_KEYS=off` the gateway holds no provider key, and the file's `env:NAME` references are only checked.
 */
function providerKeyPools(
  parsed: ParsedGatewayEnv,
  env: Environment,
  document: GatewayConfigDocument | undefined,
): ReadonlyMap<string, readonly string[]> {
  if (parsed.GATEWAY_KEYS === 'off') {
    return new Map();
  }
  const pools = new Map<string, readonly string[]>();
  for (const [provider, variable] of Object.entries(PROVIDER_KEY_VARIABLES)) {
    pools.set(provider, parsed[variable]);
  }
  if (document !== undefined && parsed.GATEWAY_CONFIG !== undefined) {
    for (const [provider, keys] of resolveApiKeys(document, parsed.GATEWAY_CONFIG, env)) {
      pools.set(provider, [...(pools.get(provider) ?? []), ...keys]);
    }
  }
  return new Map([...pools].filter(([, keys]) => keys.length > 0));
}

function teamSettings(
  parsed: ParsedGatewayEnv,
  env: Environment,
  compatibleProviders: TeamSettings['compatibleProviders'],
): TeamSettings {
  const document = parsed.GATEWAY_CONFIG === undefined ? undefined : readGatewayConfigDocument(parsed.GATEWAY_CONFIG);
  const models = document?.models ?? [];
  const problems = routeTableProblems({ compatibleProviders, models });
  if (problems.length > 0) {
    throw new ConfigValidationError(problems.map((problem) => `GATEWAY_CONFIG ${parsed.GATEWAY_CONFIG}: ${problem}`));
  }
  return {
    mode: parsed.GATEWAY_KEYS,
    adminToken: parsed.GATEWAY_ADMIN_TOKEN,
    providerKeys: providerKeyPools(parsed, env, document),
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    compatibleProviders,
    models,
    prices: document?.prices ?? {},
    maxJsonBodyBytes: parsed.MAX_JSON_BODY_BYTES,
    serviceUrls: serviceUrlsByName(SERVICES_MANIFEST, parsed),
  };
}

export function loadGatewayConfig(env: Environment = process.env): GatewayConfig {
  const parsed = parseEnvironment(gatewayEnvShape, applyAliases(env, GATEWAY_ENV_ALIASES));
  const compatibleProviders = configuredOpenAiCompatibleProviders(parsed);
  return {
    platform: {
      ...toPlatformSettings('gateway', parsed.PORT, parsed, false),
      // A client may send its key in a provider's key header itself: at debug, the logged headers hold it.
      secretHeaderNames: providerKeyHeaders(compatibleProviders),
    },
    gateway: {
      serviceUrls: serviceUrlsByName(SERVICES_MANIFEST, parsed),
      compatibleProviderNames: compatibleProviders.map((provider) => provider.name),
      allowOrigin: parsed.ACCESS_CONTROL_ALLOW_ORIGIN,
      rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    },
    team: teamSettings(parsed, env, compatibleProviders),
  };
}
