import { PassThrough } from 'node:stream';
import { type FakeUpstream, anthropicError, startFakeAnthropic } from '@openai-proxy/testing-fakes';
import { type RunningClaudeBridge, startClaudeBridge } from './support/claude-bridge-app';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const CANARIES = {
  authorization: 'Bearer sk-ant-api03-canary-AAAA1111',
  'x-api-key': 'sk-ant-api03-canary-BBBB2222',
  cookie: 'sessionKey=sk-ant-sid01-canary-CCCC3333',
};

// The stack-wide canary (apps/gateway/test/failures.e2e-spec.ts) reads every service's log; this one pins the
// claude-bridge's own log on each of its routes, a failed upstream call included.
describe('claude-bridge credential canary', () => {
  const logs: string[] = [];
  let anthropic: FakeUpstream;
  let bridge: RunningClaudeBridge;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    const logDestination = new PassThrough();
    logDestination.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    bridge = await startClaudeBridge(
      { ANTHROPIC_API_BASE: anthropic.url, CLAUDE_WEB_BASE: 'http://127.0.0.1:9/api', LOG_LEVEL: 'debug' },
      { logDestination },
    );
  });

  afterAll(async () => {
    await bridge.app.close();
    await anthropic.close();
  });

  it('should write no credential to its debug log when its routes answer, fail or relay', async () => {
    anthropic.on('POST', '/v1/messages', anthropicError(529, 'overloaded_error', 'Overloaded'));
    const chat = JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] });
    const calls: Array<[string, string, string | undefined]> = [
      ['GET', '/claude/v1/models', undefined],
      ['POST', '/claude/v1/chat/completions', chat],
      ['GET', '/anthropic/v1/models?key=canary-DDDD4444', undefined],
      ['POST', `/claude/${ORG}/v1/chat/completions`, chat],
    ];
    const statuses: number[] = [];
    for (const [method, path, body] of calls) {
      const response = await fetch(`${bridge.url}${path}`, {
        method,
        headers: { ...CANARIES, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 503, 200]);
    expect(statuses[3]).toBeGreaterThanOrEqual(500);
    const text = logs.join('');
    // The request headers are logged (their values redacted), so a leak would show here.
    expect(text).toContain('"x-api-key"');
    for (const [, path] of calls) {
      expect(text).toContain(path.split('?')[0]);
    }
    for (const secret of ['AAAA1111', 'BBBB2222', 'CCCC3333', 'DDDD4444']) {
      expect(text).not.toContain(secret);
    }
  });
});
