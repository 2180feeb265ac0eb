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
import type { BardSettings } from '@openai-proxy/google-feature-bard';
import type { GeminiApiSettings } from '@openai-proxy/google-feature-gemini-api';

const bardBridgeEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(3003),
  BARD_BASE: baseUrlSchema.default('https://gemini.google.com'),
  GEMINI_API_BASE: baseUrlSchema.default('https://generativelanguage.googleapis.com'),
  BARD_TOKEN_TTL_MS: wholeNumberSchema.default(300_000),
  BARD_CONVERSATION_TTL_MS: wholeNumberSchema.default(1_800_000),
};

export interface BardBridgeConfig {
  platform: PlatformSettings;
  bard: BardSettings;
  geminiApi: GeminiApiSettings;
}

export function loadBardBridgeConfig(env: Environment = process.env): BardBridgeConfig {
  const parsed = parseEnvironment(bardBridgeEnvShape, applyAliases(env, PROXY_ALIASES));
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
