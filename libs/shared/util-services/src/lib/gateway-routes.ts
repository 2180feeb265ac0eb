import { backendServices } from './services.query';
import type { BackendServiceDefinition, ServicesManifest } from './services.types';

/** One backend service as the gateway forwards to it: the public prefixes it owns, where it listens. */
export interface GatewayServiceRoute {
  readonly name: string;
  readonly prefixes: readonly string[];
  readonly providers: readonly string[];
  readonly url: string;
}

/**
 * Path prefix → backend service, from the manifest. `urls` holds each backend's base URL by service name (from
 * its URL variable); the services serve the same public paths, so the gateway forwards paths unchanged.
 */
export function gatewayServiceRoutes(
  manifest: ServicesManifest,
  urls: Readonly<Record<string, string>>,
): readonly GatewayServiceRoute[] {
  return backendServices(manifest).map((service) => {
    const url = urls[service.name];
    if (url === undefined) {
      throw new Error(`no URL for the ${service.name} service (${service.urlVariable})`);
    }
    return { name: service.name, prefixes: service.prefixes, providers: service.providers, url };
  });
}

/** Every public prefix a backend owns: an OpenAI-compatible provider may not take one. */
export function servicePrefixes(manifest: ServicesManifest): readonly string[] {
  return backendServices(manifest).flatMap((service) => service.prefixes);
}

/** The backend that serves the OpenAI-compatible providers; a manifest with none or several is a programming error. */
export function compatibleProvidersService(manifest: ServicesManifest): BackendServiceDefinition {
  const serving = backendServices(manifest).filter((service) => service.servesCompatibleProviders === true);
  if (serving.length !== 1) {
    throw new Error(`exactly one service must serve the OpenAI-compatible providers, found ${serving.length}`);
  }
  return serving[0];
}

/** Each backend's base URL by service name, read from its URL variable in validated settings. */
export function serviceUrlsByName(
  manifest: ServicesManifest,
  settings: Readonly<Record<string, unknown>>,
): Record<string, string> {
  return Object.fromEntries(
    backendServices(manifest).map((service) => [service.name, String(settings[service.urlVariable])]),
  );
}
