import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type RawRouteDoc, type RawRouteRegistry, pathnameOf } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { ProviderAdapter, ProviderRoute } from '@openai-proxy/util-provider-contract';
import { sendJson } from './client-answer';
import { readJsonBody } from './json-body';
import type { ProviderPipeline } from './provider-pipeline.service';

/** One path segment with its percent escapes decoded; undefined when they are malformed. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The parameters of a path split into segments, under a pattern's segments; undefined when it does not match. */
function matchSegments(expected: readonly string[], path: string): Record<string, string> | undefined {
  const actual = path.split('/');
  if (expected.length !== actual.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const given = actual[index] ?? '';
    if (segment.startsWith(':')) {
      const value = given === '' ? undefined : decodedSegment(given);
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

/** Reads a pathname's parameters under one declared pattern; undefined when the pathname does not match. */
export type RoutePathMatcher = (pathname: string) => Record<string, string> | undefined;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Compiles a declared pattern (`:name` segments are parameters) into its matcher, which takes paths as
 * Express matched the Nest routes these replace (letter case ignored, one trailing slash allowed). The front
 * door asks every declared route about every request (the relays' included), so a pattern without parameters
 * is decided by its length and one comparison, with nothing allocated for a path that is not it.
 */
export function compileRoutePath(pattern: string): RoutePathMatcher {
  const segments = pattern.split('/');
  const lowered = pattern.toLowerCase();
  const literal = !segments.some((segment) => segment.startsWith(':'));
  return (pathname) => {
    const length = pathname.length > 1 && pathname.endsWith('/') ? pathname.length - 1 : pathname.length;
    if (literal) {
      return length === lowered.length && pathname.slice(0, length).toLowerCase() === lowered ? NO_PARAMS : undefined;
    }
    return matchSegments(segments, pathname.slice(0, length));
  };
}

function unknownRoute(): GatewayException {
  return new GatewayException(ErrorCode.NotFound, 'Unknown route');
}

/**
 * The declared method that serves `method`: HEAD is served as GET (as Express did), its status and headers
 * those of the GET; Node's server sends no body in answer to a HEAD.
 */
function servedMethod(method: string | undefined): string | undefined {
  return method === 'HEAD' ? 'GET' : method;
}

/** One method of a declared path: its /docs entry, and how it serves a request (the path's parameters given). */
export interface DeclaredMethod extends RawRouteDoc {
  serve(request: IncomingMessage, response: ServerResponse, params: Record<string, string>): Promise<void>;
}

/** Where declared routes are registered: the registry itself, or one that wraps each route (the edge's CORS). */
export type RouteSink = Pick<RawRouteRegistry, 'register'>;

/** What /docs lists of a declared method: its RawRouteDoc fields, and nothing else it carries. */
function docOf(method: DeclaredMethod): RawRouteDoc {
  return {
    method: method.method,
    path: method.path,
    summary: method.summary,
    tag: method.tag,
    requestSchema: method.requestSchema,
    responseSchema: method.responseSchema,
    successStatus: method.successStatus,
    queryParameters: method.queryParameters,
    security: method.security,
  };
}

/**
 * Registers declared methods as raw routes, one per path (matched as Express did, labelled in metrics with the
 * declared path, listed in /docs); `otherMethod` is what a method the path does not declare is answered.
 */
function registerDeclared(
  registry: RouteSink,
  methods: readonly DeclaredMethod[],
  otherMethod: (path: string, declared: readonly string[]) => GatewayException,
): void {
  for (const path of [...new Set(methods.map((method) => method.path))]) {
    const declared = methods.filter((method) => method.path === path);
    const match = compileRoutePath(path);
    registry.register({
      label: path,
      matches: (pathname) => match(pathname) !== undefined,
      handle: async (request, response) => {
        const served = declared.find((candidate) => candidate.method === servedMethod(request.method));
        const params = match(pathnameOf(request.url ?? '/'));
        if (params === undefined) {
          throw unknownRoute();
        }
        if (served === undefined) {
          throw otherMethod(
            path,
            declared.map((method) => method.method),
          );
        }
        await served.serve(request, response, params);
      },
      docs: declared.map(docOf),
    });
  }
}

/**
 * Serves a bridge's declared routes as raw routes (ahead of Express, like the relays): the front door gives
 * them request tracking, metrics labelled with the declared path, and the error envelope; /docs lists them.
 * A method a path does not declare is answered 404 Unknown route. The adapter's upstream is resolved at once, so
 * /readyz shows its breaker from the start.
 */
export function registerProviderRoutes<Credentials, Operation extends string>(
  registry: RawRouteRegistry,
  pipeline: ProviderPipeline,
  adapter: ProviderAdapter<Credentials, Operation>,
  routes: readonly ProviderRoute<Operation>[],
): void {
  pipeline.targetOf(adapter);
  const methods = routes.map((route): DeclaredMethod => ({
    ...route,
    serve: async (request, response, params) => {
      await pipeline.serve(adapter, route.operation, request, response, params);
    },
  }));
  registerDeclared(registry, methods, unknownRoute);
}

/**
 * Serves declared methods that handle the request themselves (a stream, say) as raw routes, matched and listed
 * like the provider routes; a method a path does not declare is answered 405.
 */
export function registerDeclaredRoutes(registry: RouteSink, methods: readonly DeclaredMethod[]): void {
  registerDeclared(registry, methods, methodNotAllowed);
}

/** What a JsonRoute's handler sees of its request. */
export interface JsonRouteContext {
  headers: IncomingHttpHeaders;
  /** The query string's parameters. */
  query: URLSearchParams;
  /** The route's path parameters by name (`:org` → `org`). */
  params: Readonly<Record<string, string>>;
  /** Aborted when the client leaves: for the control-plane calls the handler makes. */
  signal: AbortSignal;
  /** The JSON body of a POST or PATCH (`{}` when empty; 400 when not JSON, 413 over the limit); undefined else. */
  body: unknown;
}

/** A JsonRoute's answer: its status, its JSON body (of whatever shape, such as the billing query's), its headers. */
export interface JsonRouteAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * A declared route that is not a translating provider (the billing query combines several control-plane
 * calls): matched, labelled and listed in /docs like the provider routes; a GatewayException it throws goes
 * out in the OpenAI error envelope, and a method it does not declare is answered 405.
 */
export interface JsonRoute extends RawRouteDoc {
  handle(context: JsonRouteContext): Promise<JsonRouteAnswer>;
}

/** The methods a path answers: those declared, HEAD after GET (a HEAD is served as the GET, see servedMethod). */
function allowedMethods(declared: readonly string[]): string[] {
  return declared.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
}

function methodNotAllowed(path: string, declared: readonly string[]): GatewayException {
  const allowed = allowedMethods(declared).join(', ');
  return new GatewayException(ErrorCode.MethodNotAllowed, `Only ${allowed} allowed on ${path}`, {
    headers: { allow: allowed },
  });
}

/** The request's signal for a JsonRoute: aborted when the client's connection closes before its answer. */
function clientSignal(response: ServerResponse): AbortSignal {
  const clientGone = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) {
      clientGone.abort();
    }
  });
  return clientGone.signal;
}

/** How JsonRoutes read bodies: at most this many bytes of JSON (MAX_JSON_BODY_BYTES). */
export interface JsonRouteOptions {
  maxJsonBodyBytes: number;
}

/** A JsonRoute's control-plane bodies are small: one MiB unless the caller says otherwise. */
const JSON_ROUTE_DEFAULTS: JsonRouteOptions = { maxJsonBodyBytes: 1024 * 1024 };

function bodyOf(request: IncomingMessage, method: string, options: JsonRouteOptions): Promise<unknown> {
  return method === 'POST' || method === 'PATCH'
    ? readJsonBody(request, options.maxJsonBodyBytes)
    : Promise.resolve(undefined);
}

/** Serves declared JsonRoutes as raw routes, with the same matching and /docs listing as the provider routes. */
export function registerJsonRoutes(
  registry: RouteSink,
  routes: readonly JsonRoute[],
  options: JsonRouteOptions = JSON_ROUTE_DEFAULTS,
): void {
  const methods = routes.map((route): DeclaredMethod => {
    const { handle, ...doc } = route;
    return {
      ...doc,
      serve: async (request, response, params) => {
        const query = new URL(request.url ?? '/', 'http://route.invalid').searchParams;
        const body = await bodyOf(request, route.method, options);
        const answer = await handle({ headers: request.headers, query, params, signal: clientSignal(response), body });
        sendJson(response, answer.body, answer.headers ?? {}, answer.status);
      },
    };
  });
  registerDeclared(registry, methods, methodNotAllowed);
}
