import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { GatewayAppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.env';

export function createGatewayApp(
  config: GatewayConfig,
  options: PlatformModuleOptions = {},
): Promise<NestExpressApplication> {
  return createServiceApp(GatewayAppModule.register(config, options), config.platform, {
    title: 'openai-proxy gateway',
    description:
      'Public edge: /openai/** (OpenAI relay and cost query), /claude/** and /anthropic/** (Claude), /google/** and /gemini/** (Bard, Gemini).',
  });
}
