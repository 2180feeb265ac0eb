import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { ClaudeBridgeAppModule } from './app.module';
import type { ClaudeBridgeConfig } from './config/claude-bridge.env';

export function createClaudeBridgeApp(
  config: ClaudeBridgeConfig,
  options: PlatformModuleOptions = {},
): Promise<NestExpressApplication> {
  return createServiceApp(ClaudeBridgeAppModule.register(config, options), config.platform, {
    title: 'claude-bridge',
    description:
      'Claude through claude.ai (its conversation routes under /claude/organizations, /claude/append_message, ' +
      '/claude/retry_message, and OpenAI chat completions at /claude/:org/v1/chat/completions), OpenAI chat ' +
      'completions and models over the Anthropic API (/claude/v1/chat/completions, /claude/v1/models), and the ' +
      'Anthropic API relayed as it is (/anthropic/**).',
  });
}
