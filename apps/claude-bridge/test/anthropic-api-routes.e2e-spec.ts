import { headThenGet, metricSample, openApiDocument } from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const KEY = 'sk-ant-api03-routes-test';

describe('ANTHROPIC_API_ROUTES on the claude-bridge', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  it('should list the raw chat completions and models routes in /docs with their summaries', async () => {
    const docs = await openApiDocument(bridge.url);
    expect(docs.paths['/claude/v1/chat/completions']?.post).toMatchObject({
      summary: expect.stringContaining('Anthropic Messages API'),
      tags: ['claude'],
    });
    expect(docs.paths['/claude/v1/models']?.get?.summary).toContain('Anthropic models');
  });

  it('should label the route metric with the declared path when a call is served', async () => {
    const series = 'http_requests_total{method="GET",route="/claude/v1/models",status="200"}';
    const before = await metricSample(bridge.url, series);
    const models = await fetch(`${bridge.url}/claude/v1/models/`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(models.status).toBe(200);
    await models.arrayBuffer();
    expect(await metricSample(bridge.url, series)).toBe(before + 1);
  });

  it('should answer HEAD like GET without a body when HEAD is sent to /claude/v1/models (it was a 404)', async () => {
    const headers = { authorization: `Bearer ${KEY}` };
    const series = 'http_requests_total{method="HEAD",route="/claude/v1/models",status="200"}';
    const before = await metricSample(bridge.url, series);
    const { head, bytesAfterHead, get } = await headThenGet(bridge.url, '/claude/v1/models', headers);
    expect(head.status).toBe(get.status);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    expect(bytesAfterHead).toBe('');
    expect(await metricSample(bridge.url, series)).toBe(before + 1);
  });

  it('should answer 404 Unknown route when the method is not declared for the path', async () => {
    const response = await fetch(`${bridge.url}/claude/v1/chat/completions`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { message: 'Unknown route', type: 'invalid_request_error', param: null, code: 'not_found' },
    });
  });
});
