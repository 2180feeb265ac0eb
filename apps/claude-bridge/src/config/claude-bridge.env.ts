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
import type { AnthropicApiSettings } from '@openai-proxy/claude-feature-anthropic-api';
import type { ClaudeWebSettings } from '@openai-proxy/claude-feature-claude-web';

const claudeBridgeEnvShape = {
  ...commonEnvShape,
  PORT: portSchema.default(3002),
  CLAUDE_WEB_BASE: baseUrlSchema.default('https://claude.ai/api'),
  ANTHROPIC_API_BASE: baseUrlSchema.default('https://api.anthropic.com'),
  ANTHROPIC_DEFAULT_MAX_TOKENS: z.coerce.number().int().positive().default(4096),
  CLAUDE_WEB_MODEL: z.string().trim().min(1).default('claude-2.1'),
  CLAUDE_AUTO_DELETE_CONVERSATION: booleanSchema.default(true),
  CLAUDE_DEFAULT_CONVERSATION_NAME: z.string().trim().min(1).default('OPENAI-PROXY'),
};

export interface ClaudeBridgeConfig {
  platform: PlatformSettings;
  claude: ClaudeWebSettings;
  anthropicApi: AnthropicApiSettings;
}

export function loadClaudeBridgeConfig(env: Environment = process.env): ClaudeBridgeConfig {
  const parsed = parseEnvironment(
    claudeBridgeEnvShape,
    applyAliases(env, { CLAUDE_WEB_BASE: ['CLAUDE_BASE'], ...PROXY_ALIASES }),
  );
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
