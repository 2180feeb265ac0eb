import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { GatewayAppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.env';

/** The /docs description: the forwarded prefixes (raw routes, so Swagger does not see them). */
function describeEdge(config: GatewayConfig): string {
  const providers = config.gateway.compatibleProviderNames.map((name) => `/${name}/**`);
  const compatible = providers.length > 0 ? `, ${providers.join(', ')} (OpenAI-compatible providers)` : '';
  return `Public edge: /openai/** (OpenAI relay and cost query)${compatible}, /claude/** and /anthropic/** (Claude), /google/** and /gemini/** (Bard, Gemini).`;
}

export function createGatewayApp(
  config: GatewayConfig,
  options: PlatformModuleOptions = {},
): Promise<NestExpressApplication> {
  return createServiceApp(GatewayAppModule.register(config, options), config.platform, {
    title: 'openai-proxy gateway',
    description: describeEdge(config),
  });
}
