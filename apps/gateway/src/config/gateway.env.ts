import { z } from 'zod';
import {
  type Environment,
  type PlatformSettings,
  PROXY_ALIASES,
  applyAliases,
  baseUrlSchema,
  commonEnvShape,
  configuredOpenAiCompatibleProviders,
  gatewayConfigPathSchema,
  openAiCompatibleProvidersSchema,
  parseEnvironment,
  portSchema,
  providerKeyHeaders,
  toPlatformSettings,
} from '@openai-proxy/util-config';
import type { GatewaySettings } from '@openai-proxy/gateway-feature-edge';
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

/** The variables this app reads, with their defaults (the services manifest lists the same names). */
export const gatewayEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(edgeService(SERVICES_MANIFEST).port),
  ...serviceUrlShape(),
  OPENAI_COMPATIBLE_PROVIDERS: openAiCompatibleProvidersSchema,
  GATEWAY_CONFIG: gatewayConfigPathSchema,
  ACCESS_CONTROL_ALLOW_ORIGIN: z.string().trim().min(1).default('*'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().optional(),
};

/** Other spellings this app accepts for its variables. */
export const GATEWAY_ENV_ALIASES: Readonly<Record<string, readonly string[]>> = PROXY_ALIASES;

export interface GatewayConfig {
  platform: PlatformSettings;
  gateway: GatewaySettings;
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
  };
}
