import { claudeWebHeaders, conversationsPath } from './claude-web-conversations.types';

describe('claudeWebHeaders', () => {
  it('should send claude.ai only the session cookie and what a browser sends', () => {
    expect(claudeWebHeaders('sk-ant-sid01-test', 'text/event-stream')).toEqual({
      cookie: 'sessionKey=sk-ant-sid01-test',
      accept: 'text/event-stream',
      'user-agent': expect.stringContaining('Mozilla/5.0'),
      'accept-encoding': 'identity',
    });
  });
});

describe('conversationsPath', () => {
  it('should encode the organization and the conversation in their paths', () => {
    expect(conversationsPath('a/b')).toBe('/organizations/a%2Fb/chat_conversations');
    expect(conversationsPath('a', 'c?d')).toBe('/organizations/a/chat_conversations/c%3Fd');
  });
});
