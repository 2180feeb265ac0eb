import {
  type Environment,
  type PlatformSettings,
  PROXY_ALIASES,
  applyAliases,
  baseUrlSchema,
  commonEnvShape,
  parseEnvironment,
  portSchema,
  TRUST_DIRECT_PEER_HOP,
  toPlatformSettings,
  wholeNumberSchema,
} from '@openai-proxy/util-config';
import { SERVICES_MANIFEST, defaultPort } from '@openai-proxy/util-services';
import type { BardSettings } from '@openai-proxy/google-feature-bard';
import type { GeminiApiSettings } from '@openai-proxy/google-feature-gemini-api';

/** The variables this app reads, with their defaults (the services manifest lists the same names). */
export const bardBridgeEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(defaultPort(SERVICES_MANIFEST, 'bard-bridge')),
  BARD_BASE: baseUrlSchema.default('https://gemini.google.com'),
  GEMINI_API_BASE: baseUrlSchema.default('https://generativelanguage.googleapis.com'),
  BARD_TOKEN_TTL_MS: wholeNumberSchema.default(300_000),
  BARD_CONVERSATION_TTL_MS: wholeNumberSchema.default(1_800_000),
};

/** Other spellings this app accepts for its variables. */
export const BARD_BRIDGE_ENV_ALIASES: Readonly<Record<string, readonly string[]>> = PROXY_ALIASES;

export interface BardBridgeConfig {
  platform: PlatformSettings;
  bard: BardSettings;
  geminiApi: GeminiApiSettings;
}

export function loadBardBridgeConfig(env: Environment = process.env): BardBridgeConfig {
  const parsed = parseEnvironment(bardBridgeEnvShape, applyAliases(env, BARD_BRIDGE_ENV_ALIASES));
  return {
    platform: toPlatformSettings('bard-bridge', parsed.PORT, parsed, TRUST_DIRECT_PEER_HOP),
    bard: {
      bardBase: parsed.BARD_BASE,
      tokenTtlMs: parsed.BARD_TOKEN_TTL_MS,
      conversationTtlMs: parsed.BARD_CONVERSATION_TTL_MS,
    },
    geminiApi: { apiBase: parsed.GEMINI_API_BASE },
  };
}
