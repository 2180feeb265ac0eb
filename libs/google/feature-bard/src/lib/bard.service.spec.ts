import { ControlPlaneClient, RelayService } from '@openai-proxy/data-access-upstream';
import { ClientAddressService, MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import { type BardCookies, type BardInput, bardAdapter } from '@openai-proxy/provider-bard';
import { type FakeUpstream, startFakeBard, text } from '@openai-proxy/testing-fakes';
import { commonEnvShape, parseEnvironment, toPlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { BardService } from './bard.service';

const TOKEN_TTL_MS = 60_000;
const CONVERSATION_TTL_MS = 600_000;
const COOKIES = { psid: 'g.a000-test', psidts: 'sidts-test' };
const STREAM_GENERATE = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';

/** Only the clock is fake: the HTTP calls to the fake Bard run on real timers and sockets. */
const CLOCK_ONLY = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

describe(BardService.name, () => {
  let bard: FakeUpstream;
  let service: BardService;
  let relay: RelayService;
  let controlPlane: ControlPlaneClient;

  const pageLoads = (): number => bard.requests.filter((request) => request.url === '/app').length;

  /**
   * One turn as the provider pipeline runs it, with BardService as the adapter's session: prepare (the tokens
   * and the conversation), the StreamGenerate call, the answer read (or Bard's refusal translated), finish.
   */
  const turn = async (cookies: BardCookies, prompt: string, conversationId?: string): Promise<string> => {
    const adapter = bardAdapter(bard.url, service);
    const input: BardInput = { prompt, conversationId };
    const route = { pathname: '/google/bard' };
    const signal = AbortSignal.timeout(5_000);
    const prepared = await adapter.operations.ask.prepare({
      ...route,
      input,
      credentials: cookies,
      headers: {},
      params: {},
      signal,
    });
    if (prepared.answer !== 'whole') {
      throw new Error(`Bard's call is answered whole, not as ${prepared.answer}`);
    }
    const { request } = prepared;
    const answer = await controlPlane.request({
      name: 'bard',
      method: request.method,
      url: new URL(`${bard.url}${request.path}`),
      headers: { ...request.headers, 'content-type': request.encodedBody?.contentType ?? '' },
      data: request.encodedBody?.text,
      signal,
    });
    try {
      if (answer.status !== 200) {
        throw adapter.translateError(answer.status, undefined, answer.retryAfter);
      }
      const reading = prepared.read.read(answer.text);
      if ('problem' in reading) {
        throw new Error(reading.problem);
      }
      await prepared.finish?.({ usage: reading.usage, clientLeft: false });
      return String(reading.body);
    } catch (error) {
      await prepared.finish?.({
        usage: undefined,
        error: error instanceof GatewayException ? error : undefined,
        clientLeft: false,
      });
      throw error;
    }
  };
  const ask = (prompt: string, conversationId?: string): Promise<string> => turn(COOKIES, prompt, conversationId);

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: [...CLOCK_ONLY], now: new Date('2024-01-01T00:00:00Z') });
    bard = await startFakeBard();
    const platform = toPlatformSettings('bard-bridge', 0, parseEnvironment(commonEnvShape, {}), 1);
    const metrics = new MetricsService();
    const shutdown = new ShutdownService();
    relay = new RelayService(platform, metrics, shutdown, new ClientAddressService(platform));
    controlPlane = new ControlPlaneClient(relay, metrics, shutdown);
    service = new BardService(controlPlane, {
      bardBase: bard.url,
      tokenTtlMs: TOKEN_TTL_MS,
      conversationTtlMs: CONVERSATION_TTL_MS,
    });
  });

  afterEach(async () => {
    await relay.onModuleDestroy();
    await bard.close();
    jest.useRealTimers();
  });

  it('should scrape the page once and reuse its tokens while they are fresh', async () => {
    expect(await ask('one')).toBe('Bard turn 1: you said one');
    jest.setSystemTime(Date.now() + TOKEN_TTL_MS - 1);
    await ask('two');
    expect(pageLoads()).toBe(1);
  });

  it('should scrape the page again once the tokens have expired', async () => {
    await ask('one');
    jest.setSystemTime(Date.now() + TOKEN_TTL_MS);
    await ask('two');
    expect(pageLoads()).toBe(2);
  });

  it('should scrape again after Bard rejected the session with the cached tokens', async () => {
    await ask('one');
    bard.on('POST', STREAM_GENERATE, text(401, 'Unauthorized'));
    await expect(ask('two')).rejects.toMatchObject({ code: ErrorCode.InvalidApiKey });
    await expect(ask('three')).rejects.toBeInstanceOf(GatewayException);
    expect(pageLoads()).toBe(2);
  });

  it('should continue a conversation while it is kept, and start a new one once it expired', async () => {
    expect(await ask('hi', 'mine')).toBe('Bard turn 1: you said hi');
    jest.setSystemTime(Date.now() + CONVERSATION_TTL_MS - 1);
    expect(await ask('again', 'mine')).toBe('Bard turn 2: you said again');
    jest.setSystemTime(Date.now() + CONVERSATION_TTL_MS);
    expect(await ask('later', 'mine')).toBe('Bard turn 1: you said later');
  });

  it('should keep conversations apart by id, and start a new one for each call without an id', async () => {
    await ask('a', 'first');
    await ask('b', 'second');
    expect(await ask('c', 'first')).toBe('Bard turn 2: you said c');
    expect(await ask('d')).toBe('Bard turn 1: you said d');
    expect(await ask('e')).toBe('Bard turn 1: you said e');
  });

  it('should keep the conversations of other cookies apart under the same id', async () => {
    await ask('a', 'shared');
    const other = { psid: 'g.a000-other', psidts: 'sidts-other' };
    expect(await turn(other, 'b', 'shared')).toBe('Bard turn 1: you said b');
  });

  it('should key its token and conversation caches by a digest of the cookies, never the cookies themselves', async () => {
    await ask('a', 'kept');
    const other = { psid: 'g.a000-other', psidts: 'sidts-other' };
    await turn(other, 'b', 'kept');
    // The maps themselves, read as a heap dump would show them: what a cache holds is what could leak from it.
    const tokenKeys = [...service['tokenCache']['entries'].keys()];
    const conversationKeys = [...service['conversations']['entries'].keys()];
    expect(tokenKeys).toHaveLength(2);
    expect(tokenKeys.every((key) => /^[0-9a-f]{64}$/.test(key))).toBe(true);
    expect(new Set(tokenKeys).size).toBe(2);
    expect(conversationKeys.sort()).toEqual(tokenKeys.map((key) => `${key}\nkept`).sort());
    for (const key of [...tokenKeys, ...conversationKeys]) {
      for (const secret of [COOKIES.psid, COOKIES.psidts, other.psid, other.psidts]) {
        expect(key).not.toContain(secret);
      }
    }
  });

  it.each([
    [429, ErrorCode.RateLimited],
    [500, ErrorCode.UpstreamBadResponse],
  ])('should answer %i from StreamGenerate as %s', async (status, code) => {
    bard.on('POST', STREAM_GENERATE, text(status, 'no'));
    await expect(ask('x')).rejects.toMatchObject({ code });
  });

  it('should answer invalid_api_key when the page refuses the cookies', async () => {
    bard.on('GET', '/app', text(403, 'Forbidden'));
    await expect(ask('x')).rejects.toMatchObject({ code: ErrorCode.InvalidApiKey });
  });
});
