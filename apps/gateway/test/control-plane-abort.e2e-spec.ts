import { type FakeUpstream, type RecordedRequest, stall } from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';

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
    stack.bardWeb.on('POST', STREAM_GENERATE, stall());
    const arrived = await leaveWhileStalled(stack, stack.bardWeb, bardAsk('g.a000abortGenerate'), (request) =>
      request.url.startsWith(STREAM_GENERATE),
    );
    expect(arrived.closedEarly).toBe(true);
  });
});

function bardAsk(psid: string): Leaving {
  return {
    method: 'POST',
    path: '/google/bard',
    headers: { cookie: `__Secure-1PSID=${psid};__Secure-1PSIDTS=sidts-abort`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'are you there?' }),
  };
}
