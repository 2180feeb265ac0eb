import { type FakeUpstream, type RecordedRequest, stall, startFakeClaudeWeb } from '@openai-proxy/testing-fakes';
import { type RunningClaudeBridge, startClaudeBridge } from './support/claude-bridge-app';

const SESSION = 'sk-ant-sid01-abort-session';

/** How soon claude.ai must see its request closed once the client left. */
const CLOSE_WITHIN_MS = 1_000;

interface Leaving {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Sends a request to the bridge, waits until the (stalled) claude.ai got its call, then leaves; resolves with
 * that upstream request once its connection closed (rejects when it stays open past the bound).
 */
async function leaveWhileStalled(
  bridgeUrl: string,
  upstream: FakeUpstream,
  sent: Leaving,
  arrivedAs: (arrived: RecordedRequest) => boolean,
): Promise<RecordedRequest> {
  const client = new AbortController();
  const pending = fetch(`${bridgeUrl}${sent.path}`, {
    method: sent.method,
    headers: sent.headers,
    ...(sent.body === undefined ? {} : { body: sent.body }),
    signal: client.signal,
  }).catch(() => undefined);
  const arrived = await upstream.waitForRequest(arrivedAs);
  client.abort();
  await pending;
  await upstream.waitForClose(arrived, CLOSE_WITHIN_MS);
  return arrived;
}

function sessionCookie(): Record<string, string> {
  return { cookie: `sessionKey=${SESSION}` };
}

// Regression: the claude.ai control-plane calls ignored a client that left, and kept their upstream call open
// until the headers timeout (two minutes by default).
describe('claude.ai conversation calls when the client leaves', () => {
  let claudeWeb: Awaited<ReturnType<typeof startFakeClaudeWeb>>;
  let bridge: RunningClaudeBridge;

  beforeAll(async () => {
    claudeWeb = await startFakeClaudeWeb();
    bridge = await startClaudeBridge({ CLAUDE_WEB_BASE: claudeWeb.fake.url });
  });

  afterAll(async () => {
    await bridge.app.close();
    await claudeWeb.fake.close();
  });

  it('should close the claude.ai call when the client leaves while listing conversations', async () => {
    claudeWeb.fake.on('GET', /^\/organizations\/stalled-list\/chat_conversations$/, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      claudeWeb.fake,
      { method: 'GET', path: '/claude/organizations/stalled-list/chat_conversations', headers: sessionCookie() },
      (request) => request.url === '/organizations/stalled-list/chat_conversations',
    );
    expect(arrived.closedEarly).toBe(true);
  });

  it('should close the claude.ai call when the client leaves while creating a conversation', async () => {
    claudeWeb.fake.on('POST', /^\/organizations\/stalled-create\/chat_conversations$/, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      claudeWeb.fake,
      {
        method: 'POST',
        path: '/claude/organizations/stalled-create/chat_conversations',
        headers: { ...sessionCookie(), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'left' }),
      },
      (request) => request.url === '/organizations/stalled-create/chat_conversations',
    );
    expect(arrived.closedEarly).toBe(true);
  });

  it('should close the claude.ai calls when the client leaves while every conversation is being deleted', async () => {
    claudeWeb.conversations.set('kept-a', {
      uuid: 'kept-a',
      name: 'kept-a',
      summary: '',
      created_at: '',
      updated_at: '',
      chat_messages: [],
    });
    claudeWeb.fake.on('DELETE', /^\/organizations\/stalled-all\/chat_conversations\/kept-a$/, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      claudeWeb.fake,
      { method: 'DELETE', path: '/claude/organizations/stalled-all/chat_conversations', headers: sessionCookie() },
      (request) => request.method === 'DELETE' && request.url.endsWith('/kept-a'),
    );
    expect(arrived.closedEarly).toBe(true);
  });
});
