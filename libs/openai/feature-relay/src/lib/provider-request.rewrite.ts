import type { IncomingMessage } from 'node:http';
import { readBearerToken, readHeaderText } from '@openai-proxy/util-auth-headers';
import type { OpenAiCompatibleProvider } from '@openai-proxy/util-config';

/**
 * What a provider with a key header or a configured query does to a request before it is relayed (HTTP and
 * WebSocket alike): may move the key between headers, and gives the path and query to relay.
 */
export type ProviderRequestRewrite = (request: IncomingMessage, path: string) => string;

/**
 * The client's `Authorization: Bearer <key>` goes on as `<keyHeader>: <key>` without Authorization (Azure
 * OpenAI's `api-key`). A client that already sends the key header, or sends no bearer token, is left as sent.
 */
export function moveBearerKey(request: IncomingMessage, keyHeader: string): void {
  if (readHeaderText(request.headers, keyHeader) !== undefined) {
    return;
  }
  const bearer = readBearerToken(request.headers);
  if (bearer !== undefined) {
    request.headers[keyHeader] = bearer;
    delete request.headers.authorization;
  }
}

/** A query parameter's name as the upstream reads it (`api%2Dversion` is `api-version`). */
function parameterName(pair: string): string {
  const name = pair.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/**
 * The path with the configured parameters (`encoded`, named `names`) at the end of its query. A client's own
 * value for a configured parameter is dropped, so the configured one always wins (Azure keeps the
 * `api-version` it was set up for); the client's other parameters stay as sent, byte for byte.
 */
export function withConfiguredQuery(path: string, names: ReadonlySet<string>, encoded: string): string {
  const mark = path.indexOf('?');
  if (mark < 0) {
    return `${path}?${encoded}`;
  }
  const kept = path
    .slice(mark + 1)
    .split('&')
    .filter((pair) => pair !== '' && !names.has(parameterName(pair)));
  return `${path.slice(0, mark)}?${[...kept, encoded].join('&')}`;
}

function encodeQuery(query: Readonly<Record<string, string>>): string {
  return Object.entries(query)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

/**
 * The rewrite a provider needs, built once at start; undefined when it has neither a key header nor a query,
 * so such providers (and `/openai/**`) do no work per request.
 */
export function providerRequestRewrite(provider: OpenAiCompatibleProvider): ProviderRequestRewrite | undefined {
  const { keyHeader } = provider;
  const query = provider.query ?? {};
  const names = new Set(Object.keys(query));
  if (keyHeader === undefined && names.size === 0) {
    return undefined;
  }
  const encoded = encodeQuery(query);
  return (request, path) => {
    if (keyHeader !== undefined) {
      moveBearerKey(request, keyHeader);
    }
    return names.size === 0 ? path : withConfiguredQuery(path, names, encoded);
  };
}
