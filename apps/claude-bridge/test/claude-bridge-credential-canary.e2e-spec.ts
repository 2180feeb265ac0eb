import {
  type CanaryCall,
  anthropicError,
  canaryLogReport,
  captureLog,
  sendCanaryCalls,
} from '@openai-proxy/testing-fakes';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const CANARIES = {
  authorization: 'Bearer sk-ant-api03-canary-AAAA1111',
  'x-api-key': 'sk-ant-api03-canary-BBBB2222',
  cookie: 'sessionKey=sk-ant-sid01-canary-CCCC3333',
};

// The stack-wide canary (apps/gateway/test/failures.e2e-spec.ts) reads every service's log; this one pins the
// claude-bridge's own log on each of its routes, a failed upstream call included.
describe('claude-bridge credential canary', () => {
  const log = captureLog();
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes(
      { CLAUDE_WEB_BASE: 'http://127.0.0.1:9/api', LOG_LEVEL: 'debug' },
      { logDestination: log.destination },
    );
  });

  afterAll(() => bridge.close());

  it('should write no credential to its debug log when its routes answer, fail or relay', async () => {
    bridge.anthropic.on('POST', '/v1/messages', anthropicError(529, 'overloaded_error', 'Overloaded'));
    const chat = JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }] });
    const calls: CanaryCall[] = [
      ['GET', '/claude/v1/models', undefined],
      ['POST', '/claude/v1/chat/completions', chat],
      ['GET', '/anthropic/v1/models?key=canary-DDDD4444', undefined],
      ['POST', `/claude/${ORG}/v1/chat/completions`, chat],
    ];
    const statuses = await sendCanaryCalls(bridge.url, CANARIES, calls);
    expect(statuses.slice(0, 3)).toEqual([200, 503, 200]);
    expect(statuses[3]).toBeGreaterThanOrEqual(500);
    expect(canaryLogReport(log.text(), 'x-api-key', calls, ['AAAA1111', 'BBBB2222', 'CCCC3333', 'DDDD4444'])).toEqual({
      headerLogged: true,
      unloggedPaths: [],
      leakedSecrets: [],
    });
  });
});
