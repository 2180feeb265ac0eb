import { ControlPlaneClient, RelayService } from '@openai-proxy/data-access-upstream';
import {
  type BreakerView,
  ClientAddressService,
  MetricsService,
  ShutdownService,
} from '@openai-proxy/feature-platform';
import {
  type FakeUpstream,
  type RecordedRequest,
  json,
  openAiError,
  stall,
  startFakeOpenAi,
  text,
} from '@openai-proxy/testing-fakes';
import { commonEnvShape, parseEnvironment, toPlatformSettings } from '@openai-proxy/util-config';
import { BILLING_UPSTREAM, BillingError, BillingService, type CreditGrantsRequest } from './billing.service';

const NOW = new Date('2024-06-30T12:00:00Z');
const USAGE = '/v1/dashboard/billing/usage';
const SUBSCRIPTION = '/v1/dashboard/billing/subscription';

function creditGrantsRequest(fields: Partial<CreditGrantsRequest>): CreditGrantsRequest {
  return {
    authorization: 'Bearer sk-test-key',
    contentType: undefined,
    startDate: '2024-01-01',
    endDate: '2024-06-30',
    signal: new AbortController().signal,
    ...fields,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<BillingError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof BillingError)) {
    throw new Error(`expected a BillingError, got ${String(outcome)}`);
  }
  return outcome;
}

/** The service with its real control-plane client (on the relay's undici pools), default settings. */
function billingFor(apiBase: string, relay: RelayService): BillingService {
  const client = new ControlPlaneClient(relay, new MetricsService(), new ShutdownService());
  return new BillingService(client, { apiBase, compatibleProviders: [] });
}

/** The relay's undici pools and guards; `env` as the service would read it (defaults otherwise). */
function relayService(env: Record<string, string> = {}): RelayService {
  const platform = toPlatformSettings('openai-relay', 0, parseEnvironment(commonEnvShape, env), 1);
  return new RelayService(platform, new MetricsService(), new ShutdownService(), new ClientAddressService(platform));
}

/** More cost queries than it takes to open a circuit (five failures in a row, at least one per query). */
const QUERIES_TO_OPEN = 6;

describe(BillingService.name, () => {
  let openai: FakeUpstream;
  let billing: BillingService;
  let relay: RelayService;

  beforeEach(async () => {
    openai = await startFakeOpenAi();
    relay = relayService();
    billing = billingFor(openai.url, relay);
  });

  afterEach(async () => {
    await relay.onModuleDestroy();
    await openai.close();
  });

  it('should answer 401 without calling OpenAI when Authorization is missing or blank', async () => {
    for (const authorization of [undefined, '  ']) {
      const error = await failureOf(billing.creditGrants(creditGrantsRequest({ authorization }), NOW));
      expect(error.status).toBe(401);
    }
    expect(openai.requests).toHaveLength(0);
  });

  it('should answer 400 with the date problem when the range is invalid', async () => {
    const error = await failureOf(billing.creditGrants(creditGrantsRequest({ startDate: '2024-13-01' }), NOW));
    expect(error.status).toBe(400);
    expect(openai.requests).toHaveLength(0);
  });

  it('should answer 502 naming the field when the usage answer has no total_usage', async () => {
    openai.on('GET', USAGE, json(200, { object: 'list' }));
    const error = await failureOf(billing.creditGrants(creditGrantsRequest({}), NOW));
    expect(error).toMatchObject({ status: 502, message: 'OpenAI billing upstream answered without total_usage' });
  });

  it('should answer 502 naming the field when the subscription has no hard limit', async () => {
    openai.on('GET', SUBSCRIPTION, json(200, { object: 'billing_subscription' }));
    const error = await failureOf(billing.creditGrants(creditGrantsRequest({}), NOW));
    expect(error).toMatchObject({
      status: 502,
      message: 'OpenAI billing upstream answered without system_hard_limit_usd',
    });
  });

  it('should keep the status, the message and Retry-After of a refusal, and name the status when it has no message', async () => {
    openai.on('GET', SUBSCRIPTION, openAiError(429, 'Slow down', 'rate_limit_exceeded', { 'retry-after': '7' }));
    const limited = await failureOf(billing.creditGrants(creditGrantsRequest({}), NOW));
    expect(limited).toMatchObject({ status: 429, message: 'Slow down', headers: { 'retry-after': '7' } });

    openai.on('GET', SUBSCRIPTION, text(500, 'oops'));
    const failed = await failureOf(billing.creditGrants(creditGrantsRequest({}), NOW));
    expect(failed).toMatchObject({ status: 500, message: 'OpenAI billing upstream answered 500', headers: {} });
  });

  /**
   * Cost queries on a relay with `env` until one is refused by the open circuit (at most QUERIES_TO_OPEN), then one
   * more: the failures of the first ones, and the requests OpenAI received during the last one (none, if it stayed
   * open).
   */
  async function queriesUntilOpen(
    env: Record<string, string>,
  ): Promise<{ failures: BillingError[]; after: number; breakers: Record<string, BreakerView> }> {
    const guarded = relayService(env);
    try {
      const service = billingFor(openai.url, guarded);
      const failures: BillingError[] = [];
      while (failures.length < QUERIES_TO_OPEN && failures.at(-1)?.status !== 503) {
        failures.push(await failureOf(service.creditGrants(creditGrantsRequest({}), NOW)));
      }
      const before = openai.requests.length;
      await failureOf(service.creditGrants(creditGrantsRequest({}), NOW));
      return { failures, after: openai.requests.length - before, breakers: guarded.guards.views() };
    } finally {
      await guarded.onModuleDestroy();
    }
  }

  /** The statuses of `failures` but the last, each once. */
  const statusesBeforeLast = (failures: readonly BillingError[]): number[] => [
    ...new Set(failures.slice(0, -1).map((failure) => failure.status)),
  ];

  // A query of this half year is three calls at once (the subscription and two 91-day usage chunks), here never
  // retried (UPSTREAM_RETRIES=0); its first failure ends the others (which then count for nothing), so the five
  // failures in a row that open the circuit take a few queries.
  it("should answer 503 with the breaker's Retry-After once the billing calls' failures opened their own circuit", async () => {
    openai.on('GET', SUBSCRIPTION, text(500, 'down'));
    openai.on('GET', USAGE, text(500, 'down'));
    const { failures, after, breakers } = await queriesUntilOpen({ UPSTREAM_RETRIES: '0' });
    expect(statusesBeforeLast(failures)).toEqual([500]);
    // Their own circuit: the relayed `openai` traffic's breaker never saw these calls.
    expect(breakers).toEqual({ [BILLING_UPSTREAM]: { state: 'open', retryAfterSeconds: expect.any(Number) } });
    expect(breakers['openai']).toBeUndefined();
    expect(failures.at(-1)).toMatchObject({
      status: 503,
      message: 'OpenAI billing upstream is failing and is not called for now',
      headers: { 'retry-after': expect.stringMatching(/^\d+$/) },
    });
    expect(after).toBe(0);
  });

  it('should count a call its time budget ended as a failure of OpenAI, so that a hung upstream opens the circuit', async () => {
    openai.on('GET', SUBSCRIPTION, stall());
    openai.on('GET', USAGE, stall());
    const { failures, after } = await queriesUntilOpen({ UPSTREAM_RETRIES: '0', UPSTREAM_HEADERS_TIMEOUT_MS: '200' });
    expect(statusesBeforeLast(failures)).toEqual([504]);
    expect(failures.at(-1)?.status).toBe(503);
    expect(after).toBe(0);
  });

  it('should answer 502 for a redirect, never pass its 3xx on without the place it points to', async () => {
    openai.on('GET', SUBSCRIPTION, text(302, '', { location: 'https://platform.openai.com/login' }));
    const redirected = await failureOf(billing.creditGrants(creditGrantsRequest({}), NOW));
    expect(redirected).toMatchObject({ status: 502, message: 'OpenAI billing upstream answered 302' });
  });

  it('should answer 502 when OpenAI is unreachable, without the key in the message', async () => {
    const unreachable = openai.url;
    await openai.close();
    openai = await startFakeOpenAi();
    // Without a breaker: the query's calls and their retries would otherwise open it before they all failed, and
    // the answer would be the breaker's 503 (the test above).
    const unguarded = relayService({ UPSTREAM_BREAKER_FAILURES: '0' });
    try {
      const error = await failureOf(billingFor(unreachable, unguarded).creditGrants(creditGrantsRequest({}), NOW));
      expect(error).toMatchObject({ status: 502, message: 'OpenAI billing upstream is unreachable' });
      expect(error.message).not.toContain('sk-test-key');
    } finally {
      await unguarded.onModuleDestroy();
    }
  });

  it('should stop every outstanding usage call when the first one fails', async () => {
    const failing = (request: RecordedRequest): boolean => request.url.includes('start_date=2024-01-01');
    openai.on('GET', USAGE, (request, response) =>
      failing(request)
        ? openAiError(500, 'usage failed', 'server_error')(request, response)
        : stall()(request, response),
    );
    // Two chunks of the half year: one fails at once, the other stalls until it is aborted.
    const error = await failureOf(billing.creditGrants(creditGrantsRequest({}), NOW));
    expect(error).toMatchObject({ status: 500, message: 'usage failed' });
    const stalled = await openai.waitForRequest((request) => request.url.startsWith(USAGE) && !failing(request));
    await openai.waitForClose(stalled);
    expect(stalled.closedEarly).toBe(true);
  });

  it('should stop every outstanding call when the client leaves', async () => {
    openai.on('GET', USAGE, stall());
    const client = new AbortController();
    const answer = failureOf(billing.creditGrants(creditGrantsRequest({ signal: client.signal }), NOW));
    const usageCalls = async (): Promise<RecordedRequest[]> => {
      await openai.waitForRequest((request) => request.url.startsWith(USAGE) && !request.url.includes('2024-01-01'));
      await openai.waitForRequest((request) => request.url.startsWith(USAGE) && request.url.includes('2024-01-01'));
      return openai.requests.filter((request) => request.url.startsWith(USAGE));
    };
    const calls = await usageCalls();
    client.abort();
    await answer;
    for (const call of calls) {
      await openai.waitForClose(call);
      expect(call.closedEarly).toBe(true);
    }
  });

  it('should pass the dashboard answer through in session mode, with the content type the client sent', async () => {
    const answer = await billing.creditGrants(
      creditGrantsRequest({ authorization: 'Bearer sess-abc', contentType: 'application/json' }),
      NOW,
    );
    expect(answer).toMatchObject({ object: 'credit_summary' });
    expect(openai.lastRequest('/dashboard/billing/credit_grants')?.headers['content-type']).toBe('application/json');
  });
});
