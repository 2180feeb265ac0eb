import { FAKE_BARD_STREAM_GENERATE, leaveWhileStalled, leavingBardAsk, stall } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

// Regression: the claude.ai and Bard control-plane calls ignored a client that left, and kept their upstream
// call open until the headers timeout (two minutes by default). Each bridge's own tests cover its calls
// (apps/bard-bridge/test/bard-cookies.e2e-spec.ts, apps/claude-bridge/test/claude-web-client-leaves.e2e-spec.ts);
// here, that a client leaving the gateway reaches the bridge's upstream call.
describe('control-plane calls when the client leaves the gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should close the Bard answer call when the client leaves while Bard stalls', async () => {
    stack.bardWeb.on('POST', FAKE_BARD_STREAM_GENERATE, stall());
    const arrived = await leaveWhileStalled(
      stack.gatewayUrl,
      stack.bardWeb,
      leavingBardAsk('g.a000abortGenerate'),
      (request) => request.url.startsWith(FAKE_BARD_STREAM_GENERATE),
    );
    expect(arrived.closedEarly).toBe(true);
  });
});
