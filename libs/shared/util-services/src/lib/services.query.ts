import type {
  BackendServiceDefinition,
  EdgeServiceDefinition,
  ServiceDefinition,
  ServiceEnvVariable,
  ServicesManifest,
} from './services.types';

export type EnvironmentValues = Readonly<Record<string, string | undefined>>;

/** The services behind the gateway, in start order. */
export function backendServices(manifest: ServicesManifest): readonly BackendServiceDefinition[] {
  return manifest.services.filter((service): service is BackendServiceDefinition => service.role === 'backend');
}

/** The one edge service (the gateway); a manifest with none or several is a programming error. */
export function edgeService(manifest: ServicesManifest): EdgeServiceDefinition {
  const edges = manifest.services.filter((service): service is EdgeServiceDefinition => service.role === 'edge');
  if (edges.length !== 1) {
    throw new Error(`the services manifest needs exactly one edge service, found ${edges.length}`);
  }
  return edges[0];
}

/** Names in start order: every backend first, the edge last (it reports its backends' readiness). */
export function startOrder(manifest: ServicesManifest): readonly string[] {
  return [...backendServices(manifest).map((service) => service.name), edgeService(manifest).name];
}

export function serviceNamed(manifest: ServicesManifest, name: string): ServiceDefinition | undefined {
  return manifest.services.find((service) => service.name === name);
}

/** A service's default port (its app's `PORT` default); an unknown name is a programming error. */
export function defaultPort(manifest: ServicesManifest, name: string): number {
  const service = serviceNamed(manifest, name);
  if (service === undefined) {
    throw new Error(`the services manifest has no service named "${name}"`);
  }
  return service.port;
}

/** A service's URL on this machine. */
export function localServiceUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** A backend's URL inside a cluster or a compose network: its service name is its host name. */
export function clusterServiceUrl(service: BackendServiceDefinition): string {
  return `http://${service.name}:${service.port}`;
}

/** Each gateway URL variable and its default (the backend on this machine at its default port). */
export function gatewayUrlDefaults(manifest: ServicesManifest): ReadonlyMap<string, string> {
  return new Map(backendServices(manifest).map((service) => [service.urlVariable, localServiceUrl(service.port)]));
}

/** The launcher's port per service: its `*_PORT` variable when set, else its default. */
export function launcherPorts(manifest: ServicesManifest, env: EnvironmentValues): ReadonlyMap<string, number> {
  return new Map(manifest.services.map((service) => [service.name, Number(env[service.portVariable] ?? service.port)]));
}

/** The gateway URL variables pointing at the backends the launcher starts on this machine. */
export function launcherServiceUrls(
  manifest: ServicesManifest,
  ports: ReadonlyMap<string, number>,
): Record<string, string> {
  return Object.fromEntries(
    backendServices(manifest).map((service) => [
      service.urlVariable,
      localServiceUrl(ports.get(service.name) ?? service.port),
    ]),
  );
}

/**
 * The port the container healthcheck asks: the gateway's for `APP=all` (the launcher runs every service, the
 * gateway on its launcher port), else the service's `PORT`, else its default; an unknown APP gets the edge's.
 */
export function healthcheckPort(manifest: ServicesManifest, env: EnvironmentValues): number {
  const edge = edgeService(manifest);
  const app = env['APP'] || edge.name;
  if (app === 'all') {
    return Number(env[edge.portVariable] || edge.port);
  }
  return Number(env['PORT'] || (serviceNamed(manifest, app) ?? edge).port);
}

/** Variables the deployments set, with their values: every service's and the common ones, once each. */
export function deployedEnv(manifest: ServicesManifest, secret: boolean): ReadonlyArray<[string, string]> {
  const variables: ServiceEnvVariable[] = [
    ...manifest.services.flatMap((service) => service.env),
    ...manifest.commonEnv,
  ];
  const entries = new Map<string, string>();
  for (const variable of variables) {
    if (variable.secret === secret && variable.deployed !== undefined && !entries.has(variable.name)) {
      entries.set(variable.name, variable.deployed);
    }
  }
  return [...entries];
}

/**
 * Every variable the manifest says a service reads: `PORT`, its own, the common ones and, for the edge, each
 * backend's URL variable; sorted, once each. Each app's configuration schema reads exactly these.
 */
export function serviceEnvNames(manifest: ServicesManifest, service: ServiceDefinition): readonly string[] {
  const urls = service.role === 'edge' ? backendServices(manifest).map((backend) => backend.urlVariable) : [];
  const own = [...service.env, ...manifest.commonEnv].map((variable) => variable.name);
  return [...new Set(['PORT', ...urls, ...own])].sort();
}
