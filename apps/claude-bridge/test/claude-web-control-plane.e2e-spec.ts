import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp, shutdownServiceApp } from '@openai-proxy/feature-platform';
import {
  answerAfterShutdown,
  type FakeUpstream,
  metricSample,
  metricSampleReaching,
  stall,
  startFakeClaudeWeb,
} from '@openai-proxy/testing-fakes';
import { loadClaudeBridgeConfig } from '../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../src/claude-bridge.app';

const SESSION = 'sk-ant-sid01-control-plane';
const ABORTS = 'client_aborts_total{upstream="claude.ai"}';

async function startBridge(claude: FakeUpstream): Promise<{ app: NestExpressApplication; url: string }> {
  const app = await createClaudeBridgeApp(loadClaudeBridgeConfig({ CLAUDE_WEB_BASE: claude.url, LOG_LEVEL: 'silent' }));
  await listenServiceApp(app, 0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

function listConversations(url: string, org: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/claude/organizations/${org}/chat_conversations`, {
    headers: { cookie: `sessionKey=${SESSION}` },
    signal: signal ?? AbortSignal.timeout(10_000),
  });
}

/** A chat completion in a fresh conversation: its first call creates the conversation. */
function freshCompletion(url: string, org: string): Promise<Response> {
  return fetch(`${url}/claude/${org}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SESSION}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-2.1', messages: [{ role: 'user', content: 'hello' }] }),
    signal: AbortSignal.timeout(10_000),
  });
}

describe('ClaudeWebService control-plane calls', () => {
  let claude: FakeUpstream;

  beforeAll(async () => {
    claude = (await startFakeClaudeWeb()).fake;
    claude.on('GET', /^\/organizations\/stalled-[a-z]+\/chat_conversations$/, stall());
    claude.on('POST', /^\/organizations\/stalled-[a-z]+\/chat_conversations$/, stall());
  });

  afterAll(async () => {
    await claude.close();
  });

  // Regression: the claude.ai conversation calls were not registered with the drain: at its cap they were cut.
  it.each([
    ['listing conversations', 'stalled-list', listConversations],
    ['creating the conversation of a chat completion', 'stalled-create', freshCompletion],
  ])('should answer 503 server_shutting_down at the drain cap while %s', async (_name, org, send) => {
    const bridge = await startBridge(claude);
    try {
      const pending = send(bridge.url, org);
      await claude.waitForRequest((request) => request.url.startsWith(`/organizations/${org}/`));
      const drained = answerAfterShutdown(pending, () =>
        shutdownServiceApp(bridge.app, loadClaudeBridgeConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform),
      );
      expect(await drained).toEqual({ status: 503, code: 'server_shutting_down' });
    } finally {
      await bridge.app.close();
    }
  });

  // Regression: a creation cut at the drain cap may still land at claude.ai; nobody deleted that conversation.
  it('should ask claude.ai to delete the conversation whose creation the drain cap cut', async () => {
    const bridge = await startBridge(claude);
    try {
      const pending = freshCompletion(bridge.url, 'stalled-orphan');
      const created = await claude.waitForRequest((request) =>
        request.url.startsWith('/organizations/stalled-orphan/'),
      );
      const uuid = (JSON.parse(created.body.toString('utf8')) as { uuid: string }).uuid;
      const shutdown = shutdownServiceApp(bridge.app, loadClaudeBridgeConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform);
      expect((await pending).status).toBe(503);
      const deleted = await claude.waitForRequest(
        (request) =>
          request.method === 'DELETE' && request.url === `/organizations/stalled-orphan/chat_conversations/${uuid}`,
      );
      expect(deleted.method).toBe('DELETE');
      await shutdown;
    } finally {
      await bridge.app.close();
    }
  });

  // Regression: a client that left a claude.ai conversation call was not counted in client_aborts_total.
  it('should count a client that leaves while claude.ai stalls as a client abort', async () => {
    const bridge = await startBridge(claude);
    try {
      const before = await metricSample(bridge.url, ABORTS);
      const client = new AbortController();
      const pending = listConversations(bridge.url, 'stalled-left', client.signal).catch(() => undefined);
      const arrived = await claude.waitForRequest((request) => request.url.startsWith('/organizations/stalled-left/'));
      client.abort();
      await pending;
      await claude.waitForClose(arrived, 1_000);
      expect(await metricSampleReaching(bridge.url, ABORTS, before + 1)).toBe(before + 1);
    } finally {
      await bridge.app.close();
    }
  });
});
