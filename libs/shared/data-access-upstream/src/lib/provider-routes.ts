import { type RawRoute, type RawRouteRegistry, pathnameOf } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { ProviderAdapter, ProviderRoute } from '@openai-proxy/util-provider-contract';
import type { ProviderPipeline } from './provider-pipeline.service';

/** One path segment with its percent escapes decoded; undefined when they are malformed. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The path parameters of `pathname` under `pattern` (`:name` segments), or undefined when it does not match. */
export function matchRoutePath(pattern: string, pathname: string): Record<string, string> | undefined {
  // As Express matched the Nest routes these replace: any letter case, and one trailing slash.
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const expected = pattern.split('/');
  const actual = trimmed.split('/');
  if (expected.length !== actual.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const given = actual[index] ?? '';
    if (segment.startsWith(':')) {
      if (given === '') {
        return undefined;
      }
      const value = decodedSegment(given);
      if (value === undefined) {
        return undefined;
      }
      params[segment.slice(1)] = value;
    } else if (segment.toLowerCase() !== given.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

function unknownRoute(): GatewayException {
  return new GatewayException(ErrorCode.NotFound, 'Unknown route');
}

/** The raw route for one path: each method declared for it runs its operation through the pipeline. */
function providerRawRoute<Credentials, Operation extends string>(
  pipeline: ProviderPipeline,
  adapter: ProviderAdapter<Credentials, Operation>,
  path: string,
  routes: readonly ProviderRoute<Operation>[],
): RawRoute {
  return {
    label: path,
    matches: (pathname) => matchRoutePath(path, pathname) !== undefined,
    handle: async (request, response) => {
      const route = routes.find((candidate) => candidate.method === request.method);
      const params = matchRoutePath(path, pathnameOf(request.url ?? '/'));
      if (route === undefined || params === undefined) {
        throw unknownRoute();
      }
      await pipeline.serve(adapter, route.operation, request, response, params);
    },
    docs: routes.map(({ method, summary, tag }) => ({ method, path, summary, tag })),
  };
}

/**
 * Serves a bridge's declared routes as raw routes (ahead of Express, like the relays): the front door gives
 * them request tracking, metrics labelled with the declared path, and the error envelope; /docs lists them.
 */
export function registerProviderRoutes<Credentials, Operation extends string>(
  registry: RawRouteRegistry,
  pipeline: ProviderPipeline,
  adapter: ProviderAdapter<Credentials, Operation>,
  routes: readonly ProviderRoute<Operation>[],
): void {
  const paths = [...new Set(routes.map((route) => route.path))];
  for (const path of paths) {
    const declared = routes.filter((route) => route.path === path);
    registry.register(providerRawRoute(pipeline, adapter, path, declared));
  }
}
