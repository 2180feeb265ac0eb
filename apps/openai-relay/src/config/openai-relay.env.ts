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
  TRUST_DIRECT_PEER_HOP,
  toPlatformSettings,
} from '@openai-proxy/util-config';
import { SERVICES_MANIFEST, defaultPort } from '@openai-proxy/util-services';
import type { OpenAiRelaySettings } from '@openai-proxy/openai-feature-relay';

/** The variables this app reads, with their defaults (the services manifest lists the same names). */
export const openAiRelayEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(defaultPort(SERVICES_MANIFEST, 'openai-relay')),
  OPENAI_API_BASE: baseUrlSchema.default('https://api.openai.com'),
  OPENAI_COMPATIBLE_PROVIDERS: openAiCompatibleProvidersSchema,
  GATEWAY_CONFIG: gatewayConfigPathSchema,
};

/** Other spellings this app accepts for its variables. */
export const OPENAI_RELAY_ENV_ALIASES: Readonly<Record<string, readonly string[]>> = {
  OPENAI_API_BASE: ['API_BASE'],
  ...PROXY_ALIASES,
};

export interface OpenAiRelayConfig {
  platform: PlatformSettings;
  relay: OpenAiRelaySettings;
}

export function loadOpenAiRelayConfig(env: Environment = process.env): OpenAiRelayConfig {
  const parsed = parseEnvironment(openAiRelayEnvShape, applyAliases(env, OPENAI_RELAY_ENV_ALIASES));
  const compatibleProviders = configuredOpenAiCompatibleProviders(parsed);
  return {
    platform: {
      ...toPlatformSettings('openai-relay', parsed.PORT, parsed, TRUST_DIRECT_PEER_HOP),
      // The relay moves a client's key into these headers: at debug, the logged request headers hold it.
      secretHeaderNames: providerKeyHeaders(compatibleProviders),
    },
    relay: { apiBase: parsed.OPENAI_API_BASE, compatibleProviders },
  };
}
