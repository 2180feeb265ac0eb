import { ControlPlaneClient, RelayService } from '@openai-proxy/data-access-upstream';
import { conversationsPath } from '@openai-proxy/provider-claude-web';
import { ClientAddressService, MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import { type FakeUpstream, json, startFakeClaudeWeb } from '@openai-proxy/testing-fakes';
import { commonEnvShape, parseEnvironment, toPlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode } from '@openai-proxy/util-errors';
import { ClaudeWebService } from './claude-web.service';

const SESSION_KEY = 'sk-ant-sid01-test';
const ORG = 'org 1';

describe(ClaudeWebService.name, () => {
  let claude: FakeUpstream;
  let relay: RelayService;
  let service: ClaudeWebService;

  /** The service on its own relay pools, the services' settings read from `env` (defaults otherwise). */
  function serviceOn(env: Record<string, string>): { relay: RelayService; service: ClaudeWebService } {
    const platform = toPlatformSettings('claude-bridge', 0, parseEnvironment(commonEnvShape, env), 1);
    const metrics = new MetricsService();
    const shutdown = new ShutdownService();
    const pools = new RelayService(platform, metrics, shutdown, new ClientAddressService(platform));
    const made = new ClaudeWebService(new ControlPlaneClient(pools, metrics, shutdown), {
      webBase: claude.url,
      webModel: 'claude-2.1',
      autoDeleteConversation: false,
      defaultConversationName: 'openai-proxy',
    });
    return { relay: pools, service: made };
  }

  beforeEach(async () => {
    claude = (await startFakeClaudeWeb()).fake;
    ({ relay, service } = serviceOn({}));
  });

  afterEach(async () => {
    await relay.onModuleDestroy();
    await claude.close();
  });

  it('should create the conversation under the uuid it chose, with the session cookie and a JSON body', async () => {
    const uuid = await service.createConversation(ORG, SESSION_KEY, 'named');
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const arrived = claude.lastRequest('/organizations/org%201/chat_conversations');
    expect(JSON.parse(arrived?.body.toString() ?? '{}')).toEqual({ uuid, name: 'named' });
    expect(arrived?.headers.cookie).toBe(`sessionKey=${SESSION_KEY}`);
    expect(arrived?.headers['content-type']).toBe('application/json');
  });

  it('should answer the uuid it chose when claude.ai answers none', async () => {
    claude.on('POST', /chat_conversations$/, json(201, { name: 'no uuid' }));
    const uuid = await service.createConversation(ORG, SESSION_KEY, 'named');
    const sent = JSON.parse(claude.lastRequest('/organizations')?.body.toString() ?? '{}') as { uuid: string };
    expect(uuid).toBe(sent.uuid);
  });

  it('should answer claude.ai refusal with its status when it does not create the conversation', async () => {
    await expect(service.createConversation(ORG, 'not-a-session', 'n')).rejects.toMatchObject({
      code: ErrorCode.PermissionDenied,
      message: 'We are unable to serve your request',
    });
  });

  it('should delete a conversation and answer claude.ai status', async () => {
    const uuid = await service.createConversation(ORG, SESSION_KEY, 'named');
    expect(await service.deleteConversation(ORG, SESSION_KEY, uuid)).toBe(204);
    expect(await service.deleteConversation(ORG, SESSION_KEY, uuid)).toBe(404);
  });

  it('should read a JSON answer and keep a text one as it came', async () => {
    // A Retry-After longer than the retry layer waits for: the answer goes to the caller as it came.
    claude.on('GET', '/text', (_request, response) => {
      response.writeHead(502, { 'retry-after': '60' }).end('<html>bad gateway</html>');
    });
    expect(await service.call('GET', '/text', SESSION_KEY)).toEqual({
      status: 502,
      text: '<html>bad gateway</html>',
      json: undefined,
      retryAfter: '60',
    });
    expect(claude.requests.filter((request) => request.url === '/text')).toHaveLength(1);
    const list = await service.call('GET', conversationsPath(ORG), SESSION_KEY);
    expect(list).toMatchObject({ status: 200, json: [] });
  });

  it('should try a GET again after a 503, and a conversation creation not', async () => {
    let lists = 0;
    claude.on('GET', '/flaky', (_request, response) => {
      lists += 1;
      if (lists === 1) {
        response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    expect(await service.call('GET', '/flaky', SESSION_KEY)).toMatchObject({ status: 200, json: [] });
    expect(lists).toBe(2);

    claude.on('POST', /chat_conversations$/, json(503, { error: 'busy' }));
    await expect(service.createConversation(ORG, SESSION_KEY, 'n')).rejects.toMatchObject({ status: 503 });
    expect(claude.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('should answer a 503 as it came when the wait its Retry-After asks for would outlast the call', async () => {
    const short = serviceOn({ UPSTREAM_HEADERS_TIMEOUT_MS: '1000' });
    try {
      claude.on('GET', '/later', (_request, response) => {
        response.writeHead(503, { 'retry-after': '2' }).end('busy');
      });
      const startedAt = performance.now();
      expect(await short.service.call('GET', '/later', SESSION_KEY)).toMatchObject({ status: 503, retryAfter: '2' });
      // No wait at all: a retry after 2 s would have been cut by the 1 s budget (a 504 instead of this answer).
      expect(performance.now() - startedAt).toBeLessThan(1_000);
      expect(claude.requests.filter((request) => request.url === '/later')).toHaveLength(1);
    } finally {
      await short.relay.onModuleDestroy();
    }
  });
});
