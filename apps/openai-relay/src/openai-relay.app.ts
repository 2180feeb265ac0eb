import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { OpenAiRelayAppModule } from './app.module';
import type { OpenAiRelayConfig } from './config/openai-relay.env';

/** The /docs description: the relayed routes (raw routes, so Swagger does not see them) and the cost query. */
function describeRelay(config: OpenAiRelayConfig): string {
  const providers = config.relay.compatibleProviders.map((provider) => `ANY /${provider.name}/**`);
  const routes = providers.length > 0 ? `, OpenAI-compatible providers (${providers.join(', ')})` : '';
  return `Transparent relay to the OpenAI API (ANY /openai/**)${routes} and the legacy cost query.`;
}

export function createOpenAiRelayApp(
  config: OpenAiRelayConfig,
  options: PlatformModuleOptions = {},
): Promise<NestExpressApplication> {
  return createServiceApp(OpenAiRelayAppModule.register(config, options), config.platform, {
    title: 'openai-relay',
    description: describeRelay(config),
  });
}
