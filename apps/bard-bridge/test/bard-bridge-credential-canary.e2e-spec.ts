import {
  type CanaryCall,
  canaryLogReport,
  captureLog,
  geminiError,
  sendCanaryCalls,
} from '@openai-proxy/testing-fakes';
import { type BardBridgeOnFakes, startBardBridgeOnFakes } from './support/bard-bridge-app';

const CANARIES = {
  authorization: 'Bearer AIzaCanary-AAAA1111',
  'x-goog-api-key': 'AIzaCanary-BBBB2222',
  cookie: '__Secure-1PSID=canary-CCCC3333; __Secure-1PSIDTS=canary-DDDD4444',
};

// The stack-wide canary (apps/gateway/test/failures.e2e-spec.ts) reads every service's log; this one pins the
// bard-bridge's own log on its Gemini routes, a failed upstream call included.
describe('bard-bridge credential canary', () => {
  const log = captureLog();
  let bridge: BardBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startBardBridgeOnFakes({ LOG_LEVEL: 'debug' }, { logDestination: log.destination });
  });

  afterAll(() => bridge.close());

  it('should write no credential to its debug log when its Gemini routes answer, fail or relay', async () => {
    bridge.gemini.on('POST', /:generateContent$/, geminiError(503, 'UNAVAILABLE', 'Try later'));
    const chat = JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
    const calls: CanaryCall[] = [
      ['GET', '/google/v1/models', undefined],
      ['POST', '/google/v1/chat/completions', chat],
      ['GET', '/gemini/v1beta/models?key=canary-EEEE5555', undefined],
    ];
    expect(await sendCanaryCalls(bridge.url, CANARIES, calls)).toEqual([200, 503, 200]);
    const secrets = ['AAAA1111', 'BBBB2222', 'CCCC3333', 'DDDD4444', 'EEEE5555'];
    expect(canaryLogReport(log.text(), 'x-goog-api-key', calls, secrets)).toEqual({
      headerLogged: true,
      unloggedPaths: [],
      leakedSecrets: [],
    });
  });
});
