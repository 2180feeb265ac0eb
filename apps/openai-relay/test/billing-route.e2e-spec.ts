import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { type FakeUpstream, metricSample, startFakeOpenAi } from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../src/openai-relay.app';

const BILLING = '/openai/billing/credit_grants';

describe('the billing route on the raw router', () => {
  let openai: FakeUpstream;
  let relay: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    openai = await startFakeOpenAi();
    relay = await createOpenAiRelayApp(loadOpenAiRelayConfig({ OPENAI_API_BASE: openai.url, LOG_LEVEL: 'silent' }));
    await listenServiceApp(relay, 0, '127.0.0.1');
    url = await relay.getUrl();
  });

  afterAll(async () => {
    await relay.close();
    await openai.close();
  });

  it('should list GET /openai/billing/credit_grants in /docs with its summary and tag', async () => {
    const docs = (await (await fetch(`${url}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    expect(docs.paths[BILLING]?.get).toMatchObject({
      summary: expect.stringContaining('key mode (sk-) sums usage'),
      tags: ['openai'],
    });
  });

  it('should label the route metric with the declared path when a variant of it is served', async () => {
    const series = `http_requests_total{method="GET",route="${BILLING}",status="200"}`;
    const before = await metricSample(url, series);
    const response = await fetch(`${url}/openai/Billing/Credit_Grants/`, {
      headers: { authorization: 'Bearer sess-label' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(await metricSample(url, series)).toBe(before + 1);
  });

  it('should answer 405 with an Allow header naming GET when another method is sent', async () => {
    const response = await fetch(`${url}${BILLING}/`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });
});
