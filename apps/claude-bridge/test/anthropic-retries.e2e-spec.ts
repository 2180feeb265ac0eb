import { CALLER_RETRIES_HEADER } from '@openai-proxy/data-access-upstream';
import { type FakeHandler, anthropicError, delayed, fakeAnthropicMessages, reset } from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const MESSAGES = '/v1/messages';
const CHAT_BODY = JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'ping' }] });
/** Past the reset retry window (1 s): a reset this late may come after Anthropic did the work, and billed it. */
const LATE_RESET_MS = 1_500;

/** Answers with each handler in turn, the last one from then on. */
function inTurn(...answers: FakeHandler[]): FakeHandler {
  let next = 0;
  return (request, response) => {
    const answer = answers[Math.min(next, answers.length - 1)];
    next += 1;
    return answer?.(request, response);
  };
}

describe('the claude-bridge retries its provider calls before the first byte', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes({ UPSTREAM_BREAKER_FAILURES: '0' });
  });

  afterAll(() => bridge.close());

  afterEach(() => {
    bridge.anthropic.on('POST', MESSAGES, fakeAnthropicMessages);
  });

  function attempts(): number {
    return bridge.anthropic.requests.filter((request) => request.url === MESSAGES).length;
  }

  async function chat(headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const response = await fetch(`${bridge.url}/claude/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ant-api03-test-key', ...headers },
      body: CHAT_BODY,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, text: await response.text() };
  }

  it('should retry an overloaded (529) answer and translate the answer that followed: 2 attempts', async () => {
    const seen = attempts();
    bridge.anthropic.on(
      'POST',
      MESSAGES,
      inTurn(anthropicError(529, 'overloaded_error', 'Overloaded'), fakeAnthropicMessages),
    );
    const answer = await chat();
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('You said: ping');
    expect(attempts() - seen).toBe(2);
  });

  it('should never retry a 401: 1 attempt, the error translated', async () => {
    const seen = attempts();
    bridge.anthropic.on('POST', MESSAGES, anthropicError(401, 'authentication_error', 'invalid x-api-key'));
    const answer = await chat();
    expect(answer.status).toBe(401);
    expect(attempts() - seen).toBe(1);
  });

  it('should never send a call again that Anthropic read whole and reset 1.5 s later: 502, 1 attempt', async () => {
    const seen = attempts();
    bridge.anthropic.on('POST', MESSAGES, delayed(LATE_RESET_MS, reset()));
    const answer = await chat();
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'upstream_connection_reset' } });
    expect(attempts() - seen).toBe(1);
  }, 15_000);

  it('should answer a 529 as it came when the caller fails over between keys itself: 1 attempt', async () => {
    const seen = attempts();
    bridge.anthropic.on('POST', MESSAGES, anthropicError(529, 'overloaded_error', 'Overloaded'));
    const answer = await chat({ [CALLER_RETRIES_HEADER]: 'keys' });
    expect(answer.status).toBe(503);
    expect(attempts() - seen).toBe(1);
    expect(bridge.anthropic.lastRequest(MESSAGES)?.headers[CALLER_RETRIES_HEADER]).toBeUndefined();
  });
});
