import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { CorsPolicy } from './cors.middleware';
import type { GatewaySettings } from './gateway.settings';

/** The policy reads only the origin; where the services listen is no concern of it. */
const SETTINGS = { allowOrigin: 'https://app.example', rateLimitPerMinute: undefined } as GatewaySettings;

/** A handler that applies the policy and answers 204 itself when the policy did not. */
function served(policy: CorsPolicy): (incoming: IncomingMessage, response: ServerResponse) => void {
  return (incoming, response) => {
    if (!policy.apply(incoming, response)) {
      response.writeHead(204).end();
    }
  };
}

describe(CorsPolicy.name, () => {
  const handler = served(new CorsPolicy(SETTINGS));

  it('should put the configured origin and the exposed headers on a response it does not answer', async () => {
    const response = await request(handler).post('/v1/chat/completions');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers['access-control-expose-headers']?.split(', ')).toEqual(
      expect.arrayContaining([
        'x-request-id',
        'retry-after',
        'x-ratelimit-remaining',
        // A gateway key's rate-limit headers, as OpenAI names them (they were not readable from a browser).
        'x-ratelimit-remaining-requests',
        'x-ratelimit-remaining-tokens',
        'x-should-retry',
        'x-openai-proxy-model',
      ]),
    );
    expect(response.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('should answer a preflight on any path itself, with the methods, headers and max age', async () => {
    const response = await request(handler).options('/anything/at/all');
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe('0');
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers['access-control-allow-methods']).toBe('GET, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(response.headers['access-control-max-age']).toBe('86400');
    expect(response.headers['access-control-allow-headers']?.split(', ')).toEqual(
      expect.arrayContaining(['Authorization', 'x-api-key', 'anthropic-version', 'x-goog-api-key']),
    );
  });

  it('should allow the headers a preflight asks for, and only well-formed names, once each', async () => {
    const response = await request(handler)
      .options('/v1/messages')
      .set('access-control-request-headers', 'X-Custom-One, x-api-key, bad name, x<y>');
    const allowed = response.headers['access-control-allow-headers']?.split(', ') ?? [];
    expect(allowed).toContain('X-Custom-One');
    expect(allowed.filter((name) => name === 'x-api-key')).toHaveLength(1);
    expect(allowed).not.toContain('bad name');
    expect(allowed).not.toContain('x<y>');
  });
});
