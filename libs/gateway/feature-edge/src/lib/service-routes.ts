import {
  type GatewayServiceRoute,
  SERVICES_MANIFEST,
  compatibleProvidersService,
  gatewayServiceRoutes,
} from '@openai-proxy/util-services';
import type { GatewaySettings } from './gateway.settings';

/** One backend service, the public path prefixes it serves and the providers behind them. */
export type ServiceRoute = GatewayServiceRoute;

/** Path prefix → service, from the services manifest. Services serve the same public paths, forwarded unchanged. */
export function serviceRoutes(settings: GatewaySettings): readonly ServiceRoute[] {
  return gatewayServiceRoutes(SERVICES_MANIFEST, settings.serviceUrls);
}

/**
 * One route per OpenAI-compatible provider, owned by the service that serves them (the openai-relay): separate
 * from its own route so each provider has its own metrics label, and not in serviceRoutes so readiness still
 * asks that service only once.
 */
export function compatibleProviderRoutes(settings: GatewaySettings): readonly ServiceRoute[] {
  const owner = compatibleProvidersService(SERVICES_MANIFEST).name;
  const url = serviceRoutes(settings).find((route) => route.name === owner)?.url;
  if (url === undefined) {
    throw new Error(`no URL for the ${owner} service`);
  }
  return settings.compatibleProviderNames.map((name) => ({ name: owner, prefixes: [name], providers: [name], url }));
}
