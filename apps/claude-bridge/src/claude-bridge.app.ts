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
    description: 'Claude through claude.ai and the Anthropic API (routes arrive with the claude-bridge issue).',
  });
}
