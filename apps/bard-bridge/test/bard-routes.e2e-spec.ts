import { metricSample, openApiDocument } from '@openai-proxy/testing-fakes';
import { type BardBridgeOnFakes, startBardBridgeOnFakes } from './support/bard-bridge-app';

const COOKIES = '__Secure-1PSID=g.a000routes; __Secure-1PSIDTS=sidts-routes';

describe('BardRoutes', () => {
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  it('should list POST /google/bard in /docs with its summary and tag', async () => {
    const docs = await openApiDocument(bridge.url);
    expect(docs.paths['/google/bard']?.post).toMatchObject({
      summary: expect.stringContaining('Bard through browser cookies'),
      tags: ['google'],
    });
  });

  it('should label the route metric with the declared path when a call is served', async () => {
    const series = 'http_requests_total{method="POST",route="/google/bard",status="200"}';
    const before = await metricSample(bridge.url, series);
    const response = await fetch(`${bridge.url}/Google/Bard/`, {
      method: 'POST',
      headers: { cookie: COOKIES, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'label me' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(await response.json()).toBe('Bard turn 1: you said label me');
    expect(await metricSample(bridge.url, series)).toBe(before + 1);
  });

  it('should answer 404 Unknown route when the method is not declared for the path', async () => {
    const response = await fetch(`${bridge.url}/google/bard`, { headers: { cookie: COOKIES } });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: 'not_found' },
    });
  });
});
