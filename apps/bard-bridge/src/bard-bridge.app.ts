import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { BardBridgeAppModule } from './app.module';
import type { BardBridgeConfig } from './config/bard-bridge.env';

export function createBardBridgeApp(
  config: BardBridgeConfig,
  options: PlatformModuleOptions = {},
): Promise<NestExpressApplication> {
  return createServiceApp(BardBridgeAppModule.register(config, options), config.platform, {
    title: 'bard-bridge',
    description: 'Bard through browser cookies and Gemini through its API (routes arrive with the bard-bridge issue).',
  });
}
