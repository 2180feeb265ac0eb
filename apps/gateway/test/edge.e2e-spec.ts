import request from 'supertest';
import { json } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

describe('GatewayEdgeModule', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ gatewayEnv: { ACCESS_CONTROL_ALLOW_ORIGIN: 'https://app.example' } });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer a CORS preflight for any path with the allowed headers', async () => {
    const response = await request(stack.gatewayUrl)
      .options('/anything/at/all')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'x-stainless-os, content-type');
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    const allowed = String(response.headers['access-control-allow-headers']).toLowerCase();
    for (const name of [
      'authorization',
      'x-api-key',
      'anthropic-version',
      'x-goog-api-key',
      'openai-organization',
      'x-stainless-os',
    ]) {
      expect(allowed).toContain(name);
    }
    expect(response.headers['access-control-allow-methods']).toContain('DELETE');
    expect(stack.openai.requests).toHaveLength(0);
  });

  it('should set our allowed origin on relayed responses instead of the upstream one', async () => {
    stack.openai.on('GET', '/v1/cors-check', json(200, { ok: true }, { 'access-control-allow-origin': '*' }));
    const response = await request(stack.gatewayUrl).get('/openai/v1/cors-check').set('Authorization', 'Bearer sk-x');
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
  });

  it('should put the edge headers on every kind of relayed answer, collected before writeHead', async () => {
    const preflight = await request(stack.gatewayUrl)
      .options('/openai/v1/chat/completions')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBe(200);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    stack.openai.on('GET', '/v1/own-id', json(200, { ok: true }, { 'x-request-id': 'req_from_upstream' }));
    const own = await request(stack.gatewayUrl).get('/openai/v1/own-id').set('Authorization', 'Bearer sk-x');
    expect(own.headers['x-request-id']).toBe('req_from_upstream');
    expect(own.headers['access-control-expose-headers']).toContain('x-request-id');

    const unknown = await request(stack.gatewayUrl).get('/openai/v1/missing-route').set('Authorization', 'Bearer sk-x');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(unknown.headers['access-control-allow-origin']).toBe('https://app.example');
  });

  it('should redirect / to /docs and serve the OpenAPI description there', async () => {
    const root = await request(stack.gatewayUrl).get('/');
    expect(root.status).toBe(307);
    expect(root.headers.location).toBe('/docs');
    const docs = await request(stack.gatewayUrl).get('/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
    const description = await request(stack.gatewayUrl).get('/docs/openapi.json');
    expect(description.body.info.title).toBe('openai-proxy gateway');
  });

  it('should generate an x-request-id, pass it on to the upstream and return it', async () => {
    const response = await request(stack.gatewayUrl).get('/openai/v1/models').set('Authorization', 'Bearer sk-x');
    const id = response.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(stack.openai.lastRequest('/v1/models')?.headers['x-request-id']).toBe(id);
  });

  it('should keep a well-formed client x-request-id and replace a malformed one', async () => {
    const kept = await request(stack.gatewayUrl)
      .get('/openai/v1/models')
      .set('Authorization', 'Bearer sk-x')
      .set('x-request-id', 'client-id-42');
    expect(kept.headers['x-request-id']).toBe('client-id-42');
    expect(stack.openai.lastRequest('/v1/models')?.headers['x-request-id']).toBe('client-id-42');
    const replaced = await request(stack.gatewayUrl).get('/healthz').set('x-request-id', 'bad id with spaces');
    expect(replaced.headers['x-request-id']).not.toBe('bad id with spaces');
  });

  it('should keep the query string, the method and any path', async () => {
    stack.openai.on('DELETE', /^\/v1\/files\/.+/, json(200, { id: 'file-1', deleted: true }));
    const response = await request(stack.gatewayUrl)
      .delete('/openai/v1/files/file-1?purpose=x&limit=2')
      .set('Authorization', 'Bearer sk-x');
    expect(response.status).toBe(200);
    expect(stack.openai.lastRequest('/v1/files/file-1')?.url).toBe('/v1/files/file-1?purpose=x&limit=2');
    expect(stack.openai.lastRequest('/v1/files/file-1')?.method).toBe('DELETE');
  });

  it('should not send the client cookie or hop-by-hop headers to OpenAI', async () => {
    await request(stack.gatewayUrl)
      .get('/openai/v1/models')
      .set('Authorization', 'Bearer sk-x')
      .set('Cookie', 'sessionKey=secret')
      .set('X-Forwarded-For', '6.6.6.6')
      .set('x-openai-proxy-internal', 'spoofed')
      .set('OpenAI-Beta', 'assistants=v2');
    const arrived = stack.openai.lastRequest('/v1/models');
    expect(arrived?.headers.cookie).toBeUndefined();
    expect(arrived?.headers['x-openai-proxy-internal']).toBeUndefined();
    expect(arrived?.headers['x-forwarded-for']).not.toContain('6.6.6.6');
    expect(arrived?.headers['openai-beta']).toBe('assistants=v2');
    expect(arrived?.headers.host).toBe(new URL(stack.openai.url).host);
  });

  it('should forward the Claude and Google prefixes to their bridges', async () => {
    for (const path of ['/claude/not-a-route', '/google/not-a-route']) {
      const response = await request(stack.gatewayUrl).get(path);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    expect(stack.openai.requests.some((arrived) => arrived.url.includes('not-a-route'))).toBe(false);
    const anthropic = await request(stack.gatewayUrl).get('/anthropic/v1/models').set('x-api-key', 'sk-ant-edge');
    expect(anthropic.status).toBe(200);
    expect(stack.anthropic.lastRequest('/v1/models')?.headers['x-api-key']).toBe('sk-ant-edge');
    const gemini = await request(stack.gatewayUrl).get('/gemini/v1beta/models').set('x-goog-api-key', 'AIzaEdgeKey');
    expect(gemini.status).toBe(200);
    expect(stack.gemini.lastRequest('/v1beta/models')?.headers['x-goog-api-key']).toBe('AIzaEdgeKey');
  });

  it('should keep idle client connections open longer than a load balancer does (65 s)', () => {
    for (const app of [stack.gateway, stack.relay, ...stack.bridges]) {
      const server = app.getHttpServer() as { keepAliveTimeout: number; requestTimeout: number };
      expect(server.keepAliveTimeout).toBeGreaterThan(60_000);
      expect(server.requestTimeout).toBe(0);
    }
  });

  it('should answer unknown routes with a 404 in the OpenAI envelope', async () => {
    const response = await request(stack.gatewayUrl).post('/nowhere');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: 'not_found' },
    });
  });

  it('should report health, readiness of each service and metrics', async () => {
    expect((await request(stack.gatewayUrl).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(stack.gatewayUrl).get('/readyz');
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.checks)).toEqual(['openai-relay', 'claude-bridge', 'bard-bridge']);
    expect(ready.body.checks['openai-relay'].ok).toBe(true);
    const metrics = await request(stack.gatewayUrl).get('/metrics');
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/openai\/\*path",status="200"\} \d+/);
    expect(metrics.text).toContain('http_request_duration_seconds_bucket');
    expect(metrics.text).toContain('http_requests_in_flight');
    expect(metrics.text).toContain('http_streams_in_flight');
    expect(metrics.text).not.toContain('sk-x');
  });
});

describe('RateLimitMiddleware', () => {
  it('should answer 429 with Retry-After for every method once the per-minute limit is used', async () => {
    const stack = await startStack({ gatewayEnv: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const first = await request(stack.gatewayUrl).get('/openai/v1/models').set('Authorization', 'Bearer sk-x');
      expect(first.headers['x-ratelimit-limit']).toBe('2');
      expect(first.headers['x-ratelimit-remaining']).toBe('1');
      expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now());
      await request(stack.gatewayUrl).get('/openai/v1/models').set('Authorization', 'Bearer sk-x');
      for (const method of ['post', 'put', 'delete', 'get'] as const) {
        const blocked = await request(stack.gatewayUrl)[method]('/openai/v1/models');
        expect(blocked.status).toBe(429);
        expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
        expect(blocked.headers['x-ratelimit-remaining']).toBe('0');
        expect(blocked.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(blocked.headers['access-control-allow-origin']).toBe('*');
        expect(blocked.body.error.code).toBe('rate_limit_exceeded');
      }
      expect((await request(stack.gatewayUrl).get('/healthz')).status).toBe(200);
      expect(stack.openai.requests).toHaveLength(2);
    } finally {
      await stack.close();
    }
  });

  it('should count X-Forwarded-For addresses separately only when TRUST_PROXY is set', async () => {
    const trusting = await startStack({ gatewayEnv: { RATE_LIMIT_PER_MINUTE: '1', TRUST_PROXY: 'true' } });
    const untrusting = await startStack({ gatewayEnv: { RATE_LIMIT_PER_MINUTE: '1' } });
    try {
      const statuses = async (stack: Stack): Promise<number[]> => [
        (await request(stack.gatewayUrl).get('/nowhere').set('X-Forwarded-For', '198.51.100.1')).status,
        (await request(stack.gatewayUrl).get('/nowhere').set('X-Forwarded-For', '198.51.100.2')).status,
      ];
      expect(await statuses(trusting)).toEqual([404, 404]);
      expect(await statuses(untrusting)).toEqual([404, 429]);
    } finally {
      await Promise.all([trusting.close(), untrusting.close()]);
    }
  });
});
