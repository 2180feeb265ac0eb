import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { type FakeUpstream, json, rawRequest, startFakeOpenAi } from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../src/openai-relay.app';

/** Paths that would step out of the configured base path (`/anth`, below) if relayed verbatim. */
const ESCAPING_PATHS = [
  '/openai/../../admin/keys',
  '/openai/v1/../../admin/keys',
  '/openai/%2e%2e/%2e%2e/admin/keys',
  '/openai/%2E%2E/admin/keys',
  '/openai/..%2f..%2fadmin/keys',
  '/openai/v1%2f..%2f..%2fadmin/keys',
  '/openai/v1\\..\\..\\admin\\keys',
  '/openai/%252e%252e/admin/keys',
  '/openai/./v1/models',
  '/openai/billing/../billing/credit_grants',
];

describe('OpenAiRelayRoute paths', () => {
  let openai: FakeUpstream;
  let relay: NestExpressApplication;
  let relayUrl: string;

  beforeAll(async () => {
    openai = await startFakeOpenAi();
    openai.on('*', /.*/, json(200, { relayed: true }));
    relay = await createOpenAiRelayApp(
      loadOpenAiRelayConfig({ OPENAI_API_BASE: `${openai.url}/anth`, LOG_LEVEL: 'silent' }),
    );
    await listenServiceApp(relay, 0, '127.0.0.1');
    relayUrl = await relay.getUrl();
  });

  afterAll(async () => {
    await relay.close();
    await openai.close();
  });

  it.each(ESCAPING_PATHS)(
    'should answer 400 invalid_request_error and send nothing upstream for %s (dot segments reached the upstream verbatim)',
    async (path) => {
      const before = openai.requests.length;
      const answer = await rawRequest(relayUrl, 'GET', path);
      expect(answer.startsWith('HTTP/1.1 400')).toBe(true);
      expect(answer).toContain('"type":"invalid_request_error"');
      expect(openai.requests.length).toBe(before);
    },
  );

  it('should still relay paths with dots inside segments and percent escapes', async () => {
    const answer = await rawRequest(relayUrl, 'GET', '/openai/v1/models/gpt-4.1-mini%3Aft?x=a/../b');
    expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
    expect(openai.lastRequest()?.url).toBe('/anth/v1/models/gpt-4.1-mini%3Aft?x=a/../b');
  });

  it.each([
    '/openai/billing/credit_grants',
    '/openai/billing/credit_grants/',
    '/openai/billing/credit_grants?start_date=2024-01-01',
    '/openai/billing/credit_grants/?start_date=2024-01-01',
    '/openai/billing/CREDIT_GRANTS',
  ])('should give %s to the billing handler, never to the relay', async (path) => {
    const before = openai.requests.length;
    const answer = await rawRequest(relayUrl, 'GET', path);
    expect(answer.startsWith('HTTP/1.1 401')).toBe(true);
    expect(answer).toContain('Missing Authorization header');
    expect(openai.requests.length).toBe(before);
  });
});
