import type { NestExpressApplication } from '@nestjs/platform-express';
import { type PlatformModuleOptions, createServiceApp } from '@openai-proxy/feature-platform';
import { SERVICES_MANIFEST, backendServices } from '@openai-proxy/util-services';
import { GatewayAppModule } from './app.module';
import type { GatewayConfig } from './config/gateway.env';

/** The /docs description: the forwarded prefixes from the services manifest (raw routes: Swagger does not see them). */
function describeEdge(config: GatewayConfig): string {
  const compatible = config.gateway.compatibleProviderNames.map((name) => `/${name}/**`);
  const parts = backendServices(SERVICES_MANIFEST).flatMap((service) => {
    const own = `${service.prefixes.map((prefix) => `/${prefix}/**`).join(' and ')} (${service.summary})`;
    return service.servesCompatibleProviders === true && compatible.length > 0
      ? [own, `${compatible.join(', ')} (OpenAI-compatible providers)`]
      : [own];
  });
  return `Public edge: ${parts.join(', ')}.`;
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
