import { anthropicStreamTerminal } from './anthropic-stream-terminal';

describe('anthropicStreamTerminal', () => {
  it.each(['/v1/messages', '/v1/messages/', '/v1/messages?beta=true'])(
    'should end a Messages stream at message_stop or error for %s',
    (path) => {
      expect(anthropicStreamTerminal(path)).toEqual({ finalEvents: ['message_stop', 'error'] });
    },
  );

  it.each(['/v1/messages/count_tokens', '/v1/complete', '/v1/models', '/v1/messages/batches'])(
    'should assume no terminal for %s',
    (path) => {
      expect(anthropicStreamTerminal(path)).toBeUndefined();
    },
  );
});
