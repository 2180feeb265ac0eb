import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { OpenAiRelayAppModule } from './app.module';
import type { OpenAiRelayConfig } from './config/openai-relay.env';

export function createOpenAiRelayApp(
  config: OpenAiRelayConfig,
  options: PlatformModuleOptions = {},
): Promise<NestExpressApplication> {
  return createServiceApp(OpenAiRelayAppModule.register(config, options), config.platform, {
    title: 'openai-relay',
    description: 'Transparent relay to the OpenAI API (ANY /openai/**) and the legacy cost query.',
  });
}
