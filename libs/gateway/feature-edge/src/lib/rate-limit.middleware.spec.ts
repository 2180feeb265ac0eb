import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { ClientAddressService } from '@openai-proxy/feature-platform';
import { commonEnvShape, parseEnvironment, toPlatformSettings } from '@openai-proxy/util-config';
import { GatewayException } from '@openai-proxy/util-errors';
import type { GatewaySettings } from './gateway.settings';
import { RateLimitPolicy } from './rate-limit.middleware';

const NOW = new Date('2024-01-01T00:00:00Z').getTime();

/** The policy reads only the limit; where the services listen is no concern of it. */
function settings(rateLimitPerMinute: number | undefined): GatewaySettings {
  return { allowOrigin: '*', rateLimitPerMinute } as GatewaySettings;
}

/** `X-Forwarded-For` counts (every peer trusted), so a test can speak for several clients. */
function policy(rateLimitPerMinute: number | undefined): RateLimitPolicy {
  const platform = toPlatformSettings('gateway', 0, parseEnvironment(commonEnvShape, {}), true);
  return new RateLimitPolicy(settings(rateLimitPerMinute), new ClientAddressService(platform));
}

/** Admits the request, then answers 204, or the exception's status, its message and its headers. */
function served(limit: RateLimitPolicy): (incoming: IncomingMessage, response: ServerResponse) => void {
  return (incoming, response) => {
    const pathname = (incoming.url ?? '/').split('?')[0] ?? '/';
    limit.admit(incoming, response, pathname).then(
      () => response.writeHead(204).end(),
      (error: unknown) => {
        const exception = error as GatewayException;
        response.writeHead(exception.status, exception.headers).end(exception.message);
      },
    );
  };
}

describe(RateLimitPolicy.name, () => {
  beforeEach(() => {
    // Only the clock is fake: rate-limiter-flexible reads Date.now; supertest's sockets keep real timers.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval'], now: NOW });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('should count each request, set X-RateLimit-* and answer 429 with Retry-After when over the limit', async () => {
    const handler = served(policy(2));
    const first = await request(handler).get('/v1/models').set('x-forwarded-for', '203.0.113.1');
    expect(first.status).toBe(204);
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1' });
    expect(Number(first.headers['x-ratelimit-reset'])).toBe(NOW + 60_000);
    await request(handler).get('/v1/models').set('x-forwarded-for', '203.0.113.1');
    const over = await request(handler).post('/v1/chat/completions').set('x-forwarded-for', '203.0.113.1');
    expect(over.status).toBe(429);
    expect(over.text).toBe('Rate limit of 2 requests per minute exceeded');
    expect(over.headers).toMatchObject({ 'retry-after': '60', 'x-ratelimit-remaining': '0' });
  });

  it('should count each client address on its own', async () => {
    const handler = served(policy(1));
    await request(handler).get('/a').set('x-forwarded-for', '203.0.113.1');
    expect((await request(handler).get('/a').set('x-forwarded-for', '203.0.113.2')).status).toBe(204);
    expect((await request(handler).get('/a').set('x-forwarded-for', '203.0.113.1')).status).toBe(429);
  });

  it('should admit the client again once its 60 s window has passed', async () => {
    const handler = served(policy(1));
    await request(handler).get('/a');
    jest.setSystemTime(NOW + 59_000);
    const still = await request(handler).get('/a');
    expect(still.status).toBe(429);
    expect(still.headers['retry-after']).toBe('1');
    jest.setSystemTime(NOW + 60_001);
    expect((await request(handler).get('/a')).status).toBe(204);
  });

  it.each(['/healthz', '/readyz', '/metrics'])('should never count or limit %s', async (path) => {
    const handler = served(policy(1));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await request(handler).get(path);
      expect(response.status).toBe(204);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('should admit everything and set no header when no limit is set', async () => {
    const handler = served(policy(undefined));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await request(handler).get('/v1/models');
      expect(response.status).toBe(204);
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('should count an upgrade that has no response to carry the headers', async () => {
    const limit = policy(1);
    const handler = served(limit);
    const upgrade = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
    await limit.admit(upgrade, undefined, '/openai/v1/realtime');
    expect((await request(handler).get('/a').set('x-forwarded-for', '127.0.0.1')).status).toBe(429);
  });
});
