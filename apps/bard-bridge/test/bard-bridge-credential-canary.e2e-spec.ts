import { PassThrough } from 'node:stream';
import { type FakeUpstream, geminiError, startFakeGemini } from '@openai-proxy/testing-fakes';
import { type RunningBardBridge, startBardBridge } from './support/bard-bridge-app';

const CANARIES = {
  authorization: 'Bearer AIzaCanary-AAAA1111',
  'x-goog-api-key': 'AIzaCanary-BBBB2222',
  cookie: '__Secure-1PSID=canary-CCCC3333; __Secure-1PSIDTS=canary-DDDD4444',
};

// The stack-wide canary (apps/gateway/test/failures.e2e-spec.ts) reads every service's log; this one pins the
// bard-bridge's own log on its Gemini routes, a failed upstream call included.
describe('bard-bridge credential canary', () => {
  const logs: string[] = [];
  let gemini: FakeUpstream;
  let bridge: RunningBardBridge;

  beforeAll(async () => {
    gemini = await startFakeGemini();
    const logDestination = new PassThrough();
    logDestination.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    bridge = await startBardBridge({ GEMINI_API_BASE: gemini.url, LOG_LEVEL: 'debug' }, { logDestination });
  });

  afterAll(async () => {
    await bridge.app.close();
    await gemini.close();
  });

  it('should write no credential to its debug log when its Gemini routes answer, fail or relay', async () => {
    gemini.on('POST', /:generateContent$/, geminiError(503, 'UNAVAILABLE', 'Try later'));
    const chat = JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
    const calls: Array<[string, string, string | undefined]> = [
      ['GET', '/google/v1/models', undefined],
      ['POST', '/google/v1/chat/completions', chat],
      ['GET', '/gemini/v1beta/models?key=canary-EEEE5555', undefined],
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
    expect(statuses).toEqual([200, 503, 200]);
    const text = logs.join('');
    // The request headers are logged (their values redacted), so a leak would show here.
    expect(text).toContain('"x-goog-api-key"');
    for (const [, path] of calls) {
      expect(text).toContain(path.split('?')[0]);
    }
    for (const secret of ['AAAA1111', 'BBBB2222', 'CCCC3333', 'DDDD4444', 'EEEE5555']) {
      expect(text).not.toContain(secret);
    }
  });
});
