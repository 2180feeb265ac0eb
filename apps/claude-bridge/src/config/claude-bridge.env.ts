import { z } from 'zod';
import {
  type Environment,
  type PlatformSettings,
  PROXY_ALIASES,
  applyAliases,
  baseUrlSchema,
  booleanSchema,
  commonEnvShape,
  parseEnvironment,
  portSchema,
  TRUST_DIRECT_PEER_HOP,
  toPlatformSettings,
} from '@openai-proxy/util-config';
import { SERVICES_MANIFEST, defaultPort } from '@openai-proxy/util-services';
import type { AnthropicApiSettings } from '@openai-proxy/claude-feature-anthropic-api';
import type { ClaudeWebSettings } from '@openai-proxy/claude-feature-claude-web';

/** The variables this app reads, with their defaults (the services manifest lists the same names). */
export const claudeBridgeEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(defaultPort(SERVICES_MANIFEST, 'claude-bridge')),
  CLAUDE_WEB_BASE: baseUrlSchema.default('https://claude.ai/api'),
  ANTHROPIC_API_BASE: baseUrlSchema.default('https://api.anthropic.com'),
  ANTHROPIC_DEFAULT_MAX_TOKENS: z.coerce.number().int().positive().default(4096),
  CLAUDE_WEB_MODEL: z.string().trim().min(1).default('claude-2.1'),
  CLAUDE_AUTO_DELETE_CONVERSATION: booleanSchema.default(true),
  CLAUDE_DEFAULT_CONVERSATION_NAME: z.string().trim().min(1).default('OPENAI-PROXY'),
};

/** Other spellings this app accepts for its variables. */
export const CLAUDE_BRIDGE_ENV_ALIASES: Readonly<Record<string, readonly string[]>> = {
  CLAUDE_WEB_BASE: ['CLAUDE_BASE'],
  ...PROXY_ALIASES,
};

export interface ClaudeBridgeConfig {
  platform: PlatformSettings;
  claude: ClaudeWebSettings;
  anthropicApi: AnthropicApiSettings;
}

export function loadClaudeBridgeConfig(env: Environment = process.env): ClaudeBridgeConfig {
  const parsed = parseEnvironment(claudeBridgeEnvShape, applyAliases(env, CLAUDE_BRIDGE_ENV_ALIASES));
  return {
    platform: toPlatformSettings('claude-bridge', parsed.PORT, parsed, TRUST_DIRECT_PEER_HOP),
    claude: {
      webBase: parsed.CLAUDE_WEB_BASE,
      webModel: parsed.CLAUDE_WEB_MODEL,
      autoDeleteConversation: parsed.CLAUDE_AUTO_DELETE_CONVERSATION,
      defaultConversationName: parsed.CLAUDE_DEFAULT_CONVERSATION_NAME,
    },
    anthropicApi: { apiBase: parsed.ANTHROPIC_API_BASE, defaultMaxTokens: parsed.ANTHROPIC_DEFAULT_MAX_TOKENS },
  };
}
