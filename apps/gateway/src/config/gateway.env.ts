import { z } from 'zod';
import {
  type Environment,
  type PlatformSettings,
  PROXY_ALIASES,
  applyAliases,
  baseUrlSchema,
  commonEnvShape,
  openAiCompatibleProvidersSchema,
  parseEnvironment,
  portSchema,
  toPlatformSettings,
} from '@openai-proxy/util-config';
import type { GatewaySettings } from '@openai-proxy/gateway-feature-edge';

const gatewayEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(3000),
  OPENAI_RELAY_URL: baseUrlSchema.default('http://127.0.0.1:3001'),
  CLAUDE_BRIDGE_URL: baseUrlSchema.default('http://127.0.0.1:3002'),
  BARD_BRIDGE_URL: baseUrlSchema.default('http://127.0.0.1:3003'),
  OPENAI_COMPATIBLE_PROVIDERS: openAiCompatibleProvidersSchema,
  ACCESS_CONTROL_ALLOW_ORIGIN: z.string().trim().min(1).default('*'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().optional(),
};

export interface GatewayConfig {
  platform: PlatformSettings;
  gateway: GatewaySettings;
}

export function loadGatewayConfig(env: Environment = process.env): GatewayConfig {
  const parsed = parseEnvironment(gatewayEnvShape, applyAliases(env, PROXY_ALIASES));
  return {
    platform: toPlatformSettings('gateway', parsed.PORT, parsed, false),
    gateway: {
      openaiRelayUrl: parsed.OPENAI_RELAY_URL,
      claudeBridgeUrl: parsed.CLAUDE_BRIDGE_URL,
      bardBridgeUrl: parsed.BARD_BRIDGE_URL,
      compatibleProviderNames: parsed.OPENAI_COMPATIBLE_PROVIDERS.map((provider) => provider.name),
      allowOrigin: parsed.ACCESS_CONTROL_ALLOW_ORIGIN,
      rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    },
  };
}
