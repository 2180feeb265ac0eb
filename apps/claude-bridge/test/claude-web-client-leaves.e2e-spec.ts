import { emptyConversation, leaveWhileStalled, stall } from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const SESSION = 'sk-ant-sid01-abort-session';

function sessionCookie(): Record<string, string> {
  return { cookie: `sessionKey=${SESSION}` };
}

// Regression: the claude.ai control-plane calls ignored a client that left, and kept their upstream call open
// until the headers timeout (two minutes by default).
describe('claude.ai conversation calls when the client leaves', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  it('should close the claude.ai call when the client leaves while listing conversations', async () => {
    bridge.claudeWeb.fake.on('GET', /^\/organizations\/stalled-list\/chat_conversations$/, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      bridge.claudeWeb.fake,
      { method: 'GET', path: '/claude/organizations/stalled-list/chat_conversations', headers: sessionCookie() },
      (request) => request.url === '/organizations/stalled-list/chat_conversations',
    );
    expect(arrived.closedEarly).toBe(true);
  });

  it('should close the claude.ai call when the client leaves while creating a conversation', async () => {
    bridge.claudeWeb.fake.on('POST', /^\/organizations\/stalled-create\/chat_conversations$/, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      bridge.claudeWeb.fake,
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
    bridge.claudeWeb.conversations.set('kept-a', emptyConversation('kept-a'));
    bridge.claudeWeb.fake.on('DELETE', /^\/organizations\/stalled-all\/chat_conversations\/kept-a$/, stall());
    const arrived = await leaveWhileStalled(
      bridge.url,
      bridge.claudeWeb.fake,
      { method: 'DELETE', path: '/claude/organizations/stalled-all/chat_conversations', headers: sessionCookie() },
      (request) => request.method === 'DELETE' && request.url.endsWith('/kept-a'),
    );
    expect(arrived.closedEarly).toBe(true);
  });
});
