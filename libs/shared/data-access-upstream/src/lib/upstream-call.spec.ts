import { type ServerResponse, createServer } from 'node:http';
import { Agent } from 'undici';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import { specGuard } from './__fixtures__/retry-settings';
import type { RelayTarget } from './relay.types';
import { RETRY_BUDGET_FLOOR, type RetryBudget } from './retry-policy';
import { requestUpstream } from './upstream-call';
import { UpstreamExchange } from './upstream-exchange';

/** Longer than any wait below: a call still waiting for it when the client left was not freed. */
const RETRY_AFTER_SECONDS = 3;
/** The call ends this soon after its client left, far below the Retry-After it would otherwise wait. */
const FREED_WITHIN_MS = 500;

/** Takes retries until the budget refuses one (bounded); how many it gave. */
function drain(budget: RetryBudget): number {
  let given = 0;
  while (given < 100 && budget.tryRetry()) {
    given += 1;
  }
  return given;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A provider that answers every call 429 with a Retry-After, through `answer` (which writes the body). */
class BusyProvider {
  readonly calls: number[] = [];
  private readonly server = createServer((_request, response) => {
    this.calls.push(Date.now());
    response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_SECONDS) });
    this.answer(response);
  });
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(private readonly answer: (response: ServerResponse) => void) {}

  async start(): Promise<this> {
    this.url = (await listenOnLoopback(this.server)).url;
    return this;
  }

  /** Runs `then` after `ms`, unless the provider closed first. */
  later(ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      then();
    }, ms);
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.server.closeAllConnections();
    await closeServer(this.server);
  }
}

describe(requestUpstream.name, () => {
  const agent = new Agent();
  let provider: BusyProvider | undefined;

  afterEach(async () => {
    await provider?.close();
    provider = undefined;
  });

  afterAll(async () => {
    await agent.close();
  });

  function targetOf(started: BusyProvider, name: string): RelayTarget {
    return {
      name,
      kind: 'provider',
      origin: started.url,
      basePath: '',
      dispatcher: agent,
      guard: specGuard(name),
      dropResponseHeaderPrefixes: [],
      streamTerminal: undefined,
    };
  }

  /** Calls `target` for a client that leaves once `leaves` resolves; when the call ended, measured from then. */
  async function callLeftAt(target: RelayTarget, leaves: Promise<void>): Promise<{ error: unknown; afterMs: number }> {
    const exchange = new UpstreamExchange();
    const call = requestUpstream(
      target,
      { origin: target.origin, path: '/v1/chat/completions', method: 'POST', body: '{}', signal: exchange },
      'all',
      exchange,
      true,
    );
    const settled = call.then(
      () => undefined,
      (error: unknown) => error,
    );
    await leaves;
    const leftAt = performance.now();
    exchange.abort();
    const error = await settled;
    return { error, afterMs: performance.now() - leftAt };
  }

  it('should free a call whose client left while it waited for a Retry-After: no retry, and the retry paid back', async () => {
    provider = await new BusyProvider((response) => response.end('{"error":{"message":"busy"}}')).start();
    const started = provider;
    const target = targetOf(started, 'busy-wait');
    // Well into the wait: the refused answer came whole long before.
    const { error, afterMs } = await callLeftAt(target, sleep(300));
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(afterMs).toBeLessThan(FREED_WITHIN_MS);
    await sleep(100);
    expect(started.calls).toHaveLength(1);
    // The budget gives all it gives at idle again: nothing was paid for the retry that was never made.
    expect(drain(target.guard.budget)).toBe(RETRY_BUDGET_FLOOR);
  });

  it('should free a call at once whose client left while the refused answer was still being read', async () => {
    let headersSent: () => void = () => undefined;
    const headed = new Promise<void>((resolve) => {
      headersSent = resolve;
    });
    provider = await new BusyProvider((response) => {
      // The head and half the body now, the rest a while later: the client leaves in between.
      response.write('{"error":');
      headersSent();
      provider?.later(400, () => response.end('{"message":"busy"}}'));
    }).start();
    const started = provider;
    const target = targetOf(started, 'busy-read');
    const { error, afterMs } = await callLeftAt(
      target,
      headed.then(() => sleep(100)),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(afterMs).toBeLessThan(FREED_WITHIN_MS);
    expect(started.calls).toHaveLength(1);
    expect(drain(target.guard.budget)).toBe(RETRY_BUDGET_FLOOR);
  });
});
