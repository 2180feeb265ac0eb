import request from 'supertest';
import { openAiError, text } from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from '@openai-proxy/util-config';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { type RelayOnFakeOpenAi, startRelay, startRelayOnFakeOpenAi } from './support/relay-app';

describe('GET /openai/billing/credit_grants', () => {
  let relay: RelayOnFakeOpenAi;

  beforeAll(async () => {
    relay = await startRelayOnFakeOpenAi();
  });

  afterAll(() => relay.close());

  it('should sum usage over the exact 91-day chunks in key mode, fetched with exclusive ends', async () => {
    const before = relay.openai.requests.length;
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants?start_date=2022-05-10&end_date=2023-05-10')
      .set('Authorization', 'Bearer sk-test-key');
    expect(response.status).toBe(200);
    // The fake charges one cent per day of each [start, exclusive end) window.
    expect(response.body).toEqual({
      list_used: [
        { start_date: '2022-05-10', end_date: '2022-08-08', used: 0.91 },
        { start_date: '2022-08-09', end_date: '2022-11-07', used: 0.91 },
        { start_date: '2022-11-08', end_date: '2023-02-06', used: 0.91 },
        { start_date: '2023-02-07', end_date: '2023-05-08', used: 0.91 },
        { start_date: '2023-05-09', end_date: '2023-05-10', used: 0.02 },
      ],
      total_used: expect.closeTo(3.66, 10),
      total_granted: 120,
      start_date: '2022-05-10',
      end_date: '2023-05-10',
    });
    const usageCalls = relay.openai.requests
      .slice(before)
      .filter((arrived) => arrived.url.startsWith('/v1/dashboard/billing/usage'))
      .map((arrived) => arrived.url);
    expect(usageCalls.sort()).toEqual(
      [
        '/v1/dashboard/billing/usage?end_date=2022-08-09&start_date=2022-05-10',
        '/v1/dashboard/billing/usage?end_date=2022-11-08&start_date=2022-08-09',
        '/v1/dashboard/billing/usage?end_date=2023-02-07&start_date=2022-11-08',
        '/v1/dashboard/billing/usage?end_date=2023-05-09&start_date=2023-02-07',
        '/v1/dashboard/billing/usage?end_date=2023-05-11&start_date=2023-05-09',
      ].sort(),
    );
    const subscription = relay.openai.lastRequest('/v1/dashboard/billing/subscription');
    expect(subscription?.headers.authorization).toBe('Bearer sk-test-key');
    expect(subscription?.headers['content-type']).toBeUndefined();
  });

  it('should default to the last 90 days in UTC with one chunk', async () => {
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants')
      .set('Authorization', 'Bearer sk-test-key');
    expect(response.status).toBe(200);
    expect(response.body.list_used).toHaveLength(1);
    expect(response.body.end_date).toBe(new Date().toISOString().slice(0, 10));
  });

  it('should pass the dashboard answer through in session mode', async () => {
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants')
      .set('Authorization', 'Bearer sess-abc');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ object: 'credit_summary', total_granted: 18, total_available: 17.821896 });
    expect(relay.openai.lastRequest('/dashboard/billing/credit_grants')?.headers.authorization).toBe('Bearer sess-abc');
  });

  it('should answer 401 with the billing error shape when Authorization is missing', async () => {
    const response = await request(relay.url).get(
      '/openai/billing/credit_grants?start_date=2023-01-01&end_date=2023-01-31',
    );
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: expect.stringContaining('Authorization'),
      start_date: '2023-01-01',
      end_date: '2023-01-31',
    });
  });

  it.each([
    ['start_date=2023-02-30&end_date=2023-03-01', 'start_date is not a valid date'],
    ['start_date=2023-03-05&end_date=2023-03-01', 'end_date must come after start_date'],
    ['start_date=&end_date=2023-03-01', 'start_date must be a date in the form YYYY-MM-DD'],
  ])('should answer 400 for %s', async (query, message) => {
    const response = await request(relay.url)
      .get(`/openai/billing/credit_grants?${query}`)
      .set('Authorization', 'Bearer sk-x');
    expect(response.status).toBe(400);
    expect(response.body.error).toBe(message);
    expect(response.body.end_date).toBe('2023-03-01');
  });

  it('should keep the upstream status and message when the dashboard refuses the key', async () => {
    relay.openai.on(
      'GET',
      '/v1/dashboard/billing/subscription',
      openAiError(429, 'You exceeded your current quota', 'insufficient_quota'),
    );
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants?start_date=2023-01-01&end_date=2023-01-02')
      .set('Authorization', 'Bearer sk-x');
    expect(response.status).toBe(429);
    expect(response.body).toEqual({
      error: 'You exceeded your current quota',
      start_date: '2023-01-01',
      end_date: '2023-01-02',
    });
  });

  it('should answer 502 when the dashboard answers something that is not JSON', async () => {
    relay.openai.on('GET', '/dashboard/billing/credit_grants', text(200, '<html>cloudflare</html>'));
    const response = await request(relay.url)
      .get('/openai/billing/credit_grants')
      .set('Authorization', 'Bearer sess-x');
    expect(response.status).toBe(502);
    expect(response.body.error).toContain('not JSON');
  });

  it('should answer 405 for other methods instead of relaying them', async () => {
    const response = await request(relay.url).post('/openai/billing/credit_grants');
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('method_not_allowed');
  });
});

describe('GET /openai/billing/credit_grants with the upstream down', () => {
  it('should answer 502 with the billing error shape', async () => {
    const relay = await startRelay({ OPENAI_API_BASE: 'http://127.0.0.1:9' });
    try {
      const response = await request(relay.url)
        .get('/openai/billing/credit_grants')
        .set('Authorization', 'Bearer sk-x');
      expect(response.status).toBe(502);
      expect(response.body.error).toBe('OpenAI billing upstream is unreachable');
    } finally {
      await relay.app.close();
    }
  });
});

describe('loadOpenAiRelayConfig', () => {
  it('should name every bad variable at once', () => {
    expect(() =>
      loadOpenAiRelayConfig({ PORT: 'x', OPENAI_API_BASE: 'not a url', UPSTREAM_IDLE_TIMEOUT_MS: 'soon' }),
    ).toThrow(ConfigValidationError);
    try {
      loadOpenAiRelayConfig({ PORT: 'x', OPENAI_API_BASE: 'not a url', UPSTREAM_IDLE_TIMEOUT_MS: 'soon' });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('PORT');
      expect(message).toContain('OPENAI_API_BASE');
      expect(message).toContain('UPSTREAM_IDLE_TIMEOUT_MS');
    }
  });

  it('should prefer OPENAI_API_BASE over its alias API_BASE', () => {
    expect(loadOpenAiRelayConfig({ API_BASE: 'https://a.example/' }).relay.apiBase).toBe('https://a.example');
    expect(
      loadOpenAiRelayConfig({ API_BASE: 'https://a.example', OPENAI_API_BASE: 'https://b.example' }).relay.apiBase,
    ).toBe('https://b.example');
  });
});
