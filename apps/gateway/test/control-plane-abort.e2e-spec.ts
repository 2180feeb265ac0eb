import { type FakeUpstream, type RecordedRequest, stall } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

const SESSION = 'sk-ant-sid01-abort-session';
const STREAM_GENERATE = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';

/** How soon the upstream must see its request closed once the client left. */
const CLOSE_WITHIN_MS = 1_000;

interface Leaving {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Sends a request through the gateway, waits until the (stalled) upstream got its call, then leaves; resolves
 * with that upstream request once its connection closed (rejects when it stays open past the bound).
 */
async function leaveWhileStalled(
  stack: Stack,
  upstream: FakeUpstream,
  sent: Leaving,
  arrivedAs: (arrived: RecordedRequest) => boolean,
): Promise<RecordedRequest> {
  const client = new AbortController();
  const pending = fetch(`${stack.gatewayUrl}${sent.path}`, {
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

// Regression: the claude.ai and Bard control-plane calls ignored a client that left, and kept their upstream
// call open until the headers timeout (two minutes by default).
describe('control-plane calls when the client leaves', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should close the claude.ai call when the client leaves while listing conversations', async () => {
    stack.claudeWeb.fake.on('GET', /^\/organizations\/stalled-list\/chat_conversations$/, stall());
    const arrived = await leaveWhileStalled(
      stack,
      stack.claudeWeb.fake,
      { method: 'GET', path: '/claude/organizations/stalled-list/chat_conversations', headers: sessionCookie() },
      (request) => request.url === '/organizations/stalled-list/chat_conversations',
    );
    expect(arrived.closedEarly).toBe(true);
  });

  it('should close the claude.ai call when the client leaves while creating a conversation', async () => {
    stack.claudeWeb.fake.on('POST', /^\/organizations\/stalled-create\/chat_conversations$/, stall());
    const arrived = await leaveWhileStalled(
      stack,
      stack.claudeWeb.fake,
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
    stack.claudeWeb.conversations.set('kept-a', conversation('kept-a'));
    stack.claudeWeb.fake.on('DELETE', /^\/organizations\/stalled-all\/chat_conversations\/kept-a$/, stall());
    const arrived = await leaveWhileStalled(
      stack,
      stack.claudeWeb.fake,
      { method: 'DELETE', path: '/claude/organizations/stalled-all/chat_conversations', headers: sessionCookie() },
      (request) => request.method === 'DELETE' && request.url.endsWith('/kept-a'),
    );
    expect(arrived.closedEarly).toBe(true);
  });

  it('should close the Bard answer call when the client leaves while Bard stalls', async () => {
    stack.bardWeb.on('POST', STREAM_GENERATE, stall());
    const arrived = await leaveWhileStalled(stack, stack.bardWeb, bardAsk('g.a000abortGenerate'), (request) =>
      request.url.startsWith(STREAM_GENERATE),
    );
    expect(arrived.closedEarly).toBe(true);
  });

  // After the StreamGenerate test: this stall replaces the page for the rest of the file.
  it("should close the Bard page call when the client leaves while Bard's page stalls", async () => {
    stack.bardWeb.on('GET', '/app', stall());
    const arrived = await leaveWhileStalled(
      stack,
      stack.bardWeb,
      bardAsk('g.a000abortScrape'),
      (request) => request.url === '/app' && String(request.headers.cookie).includes('abortScrape'),
    );
    expect(arrived.closedEarly).toBe(true);
  });
});

function sessionCookie(): Record<string, string> {
  return { cookie: `sessionKey=${SESSION}` };
}

function bardAsk(psid: string): Leaving {
  return {
    method: 'POST',
    path: '/google/bard',
    headers: { cookie: `__Secure-1PSID=${psid};__Secure-1PSIDTS=sidts-abort`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'are you there?' }),
  };
}

function conversation(uuid: string): {
  uuid: string;
  name: string;
  summary: string;
  created_at: string;
  updated_at: string;
  chat_messages: [];
} {
  return { uuid, name: uuid, summary: '', created_at: '', updated_at: '', chat_messages: [] };
}
