import { headThenGet, metricSample, openApiDocument } from '@openai-proxy/testing-fakes';
import { type RelayOnFakeOpenAi, startRelayOnFakeOpenAi } from './support/relay-app';

const BILLING = '/openai/billing/credit_grants';

describe('the billing route on the raw router', () => {
  let relay: RelayOnFakeOpenAi;

  beforeAll(async () => {
    relay = await startRelayOnFakeOpenAi();
  });

  afterAll(() => relay.close());

  it('should list GET /openai/billing/credit_grants in /docs with its summary and tag', async () => {
    const docs = await openApiDocument(relay.url);
    expect(docs.paths[BILLING]?.get).toMatchObject({
      summary: expect.stringContaining('key mode (sk-) sums usage'),
      tags: ['openai'],
    });
  });

  it('should label the route metric with the declared path when a variant of it is served', async () => {
    const series = `http_requests_total{method="GET",route="${BILLING}",status="200"}`;
    const before = await metricSample(relay.url, series);
    const response = await fetch(`${relay.url}/openai/Billing/Credit_Grants/`, {
      headers: { authorization: 'Bearer sess-label' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(await metricSample(relay.url, series)).toBe(before + 1);
  });

  it('should answer HEAD like GET without a body when HEAD is sent to the billing route (it was a 405)', async () => {
    const headers = { authorization: 'Bearer sess-head' };
    const { head, bytesAfterHead, get } = await headThenGet(relay.url, BILLING, headers);
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    expect(bytesAfterHead).toBe('');
  });

  it('should answer 405 with an Allow header naming GET and HEAD when another method is sent (it said only GET)', async () => {
    const response = await fetch(`${relay.url}${BILLING}/`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });
});
