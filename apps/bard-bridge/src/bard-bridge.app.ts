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
    description:
      'Bard through browser cookies (POST /google/bard), OpenAI chat completions and models over the Gemini API ' +
      '(/google/v1/chat/completions, /google/v1/models), and the Gemini API relayed as it is (/gemini/**).',
  });
}
