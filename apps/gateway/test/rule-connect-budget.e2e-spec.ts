import { type Server, type Socket, createServer } from 'node:net';
import { StalledListener, closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import { z } from 'zod';
import { type Env, type Stack, type StackOptions, startStack } from './support/stack';
import { type ClientExchange, exchange } from './support/stream-client';

// The connect budget, proven through the whole product (client → gateway → relay or bridge → an upstream whose
// connect never completes): UPSTREAM_CONNECT_TIMEOUT_MS gives up on the connect, and the client gets a 504
// upstream_timeout naming the upstream, at the budget. A loopback connect is answered at once, so the stall is
// made for real: a listener whose accept queue is full (Linux drops the SYN), and an egress proxy that never
// answers CONNECT (the tunnel's setup is part of the connect).

const CONNECT_TIMEOUT_MS = 1_000;
/**
 * undici runs the connect budget on its coarse clock (499 ms steps, a new timer credited with the step it waited
 * for): it fires between 998 and 1497 ms after it started, later on a loaded machine, never more than 2 ms early.
 */
const TIMER_EARLY_MS = 2;
const SLACK_MS = 1_000;
/** Each service's budgets: the connect one under test, no retries, so one attempt is what the client waits for. */
const BUDGET_ENV: Env = { UPSTREAM_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), UPSTREAM_RETRIES: '0' };

/** A chat route whose provider connect is the one under test, and the upstream name its error gives. */
interface ConnectRoute {
  name: string;
  path: string;
  headers: Record<string, string>;
  model: string;
  upstream: string;
}

const ROUTES: ConnectRoute[] = [
  {
    name: 'relay /openai',
    path: '/openai/v1/chat/completions',
    headers: { authorization: 'Bearer sk-connect-budget-0123456789' },
    model: 'gpt-4o-mini',
    upstream: 'openai',
  },
  {
    name: 'claude-bridge /claude/v1',
    path: '/claude/v1/chat/completions',
    headers: { authorization: 'Bearer sk-ant-api03-connect-budget' },
    model: 'claude-sonnet-4-6',
    upstream: 'anthropic',
  },
  {
    name: 'bard-bridge /google/v1',
    path: '/google/v1/chat/completions',
    headers: { authorization: 'Bearer AIzaConnectBudget0123456789' },
    model: 'gemini-2.5-flash',
    upstream: 'gemini',
  },
];

/** The services' provider bases all at `base`, with the budget (and `env`) for each. */
function providerEnv(base: string, env: Env = {}): StackOptions {
  return {
    relayEnv: { ...BUDGET_ENV, ...env, OPENAI_API_BASE: base },
    claudeEnv: { ...BUDGET_ENV, ...env, ANTHROPIC_API_BASE: base },
    bardEnv: { ...BUDGET_ENV, ...env, GEMINI_API_BASE: base },
  };
}

/** Sends a chat completion on `route` through `stack`'s gateway and reads the answer. */
function chat(stack: Stack, route: ConnectRoute): Promise<ClientExchange> {
  return exchange(`${stack.gatewayUrl}${route.path}`, {
    headers: { ...route.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ model: route.model, stream: true, messages: [{ role: 'user', content: 'connect?' }] }),
  });
}

const errorSchema = z.object({ error: z.object({ message: z.string(), type: z.string(), code: z.string() }) });

/** Expects the client's answer to be the connect budget's 504, naming `upstream`, at the budget. */
function expectConnectTimeout(client: ClientExchange, upstream: string): void {
  expect([client.status, client.failure]).toEqual([504, undefined]);
  expect(errorSchema.parse(JSON.parse(client.text)).error).toEqual({
    message: `Upstream ${upstream} did not accept a connection in time`,
    type: 'timeout_error',
    code: 'upstream_timeout',
  });
  const elapsed = (client.headersAt ?? Infinity) - client.sentAt;
  expect(elapsed).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - TIMER_EARLY_MS);
  expect(elapsed).toBeLessThanOrEqual(CONNECT_TIMEOUT_MS + SLACK_MS);
}

describe('rule: a connect that never completes ends at UPSTREAM_CONNECT_TIMEOUT_MS with a 504', () => {
  let listener: StalledListener;
  let stack: Stack;

  beforeAll(async () => {
    listener = await StalledListener.start();
    stack = await startStack(providerEnv(listener.url));
  });

  afterAll(async () => {
    await stack.close();
    await listener.close();
  });

  it.each(ROUTES.map((route) => [route.name, route] as const))(
    'should answer 504 upstream_timeout naming the upstream at the connect budget when its accept queue is full, on %s',
    async (_, route) => {
      expectConnectTimeout(await chat(stack, route), route.upstream);
    },
  );
});

/** A TCP server that reads what arrives and never answers, recording each connection's bytes and close time. */
class SilentProxy {
  readonly connections: Array<{ head: string; closedAt: number | undefined }> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => {
      const connection: { head: string; closedAt: number | undefined } = { head: '', closedAt: undefined };
      this.connections.push(connection);
      this.sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        connection.head += chunk.toString('latin1');
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        connection.closedAt = Date.now();
        this.sockets.delete(socket);
      });
    });
  }

  static async start(): Promise<SilentProxy> {
    const proxy = new SilentProxy(createServer());
    await listenOnLoopback(proxy.server);
    return proxy;
  }

  /** When connection `index` closed: waits for it up to a second (looking every 10 ms), else undefined. */
  async closeOf(index: number): Promise<number | undefined> {
    for (let look = 0; look < 100; look += 1) {
      const closedAt = this.connections[index]?.closedAt;
      if (closedAt !== undefined) {
        return closedAt;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return undefined;
  }

  get url(): string {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closeServer(this.server);
  }
}

describe('rule: the egress proxy tunnel counts against the connect budget', () => {
  /** Where the providers are configured: never reached, the proxy never opening a tunnel. */
  const PROVIDER_BASE = 'http://127.0.0.1:9';
  let proxy: SilentProxy;
  let stack: Stack;

  beforeAll(async () => {
    proxy = await SilentProxy.start();
    stack = await startStack(providerEnv(PROVIDER_BASE, { HTTPS_PROXY: proxy.url }));
  });

  afterAll(async () => {
    await stack.close();
    await proxy.close();
  });

  it.each(ROUTES.map((route) => [route.name, route] as const))(
    'should answer 504 upstream_timeout at the connect budget and close the tunnel when the proxy never answers CONNECT, on %s',
    async (_, route) => {
      const before = proxy.connections.length;
      const client = await chat(stack, route);
      expectConnectTimeout(client, route.upstream);
      const tunnels = proxy.connections.slice(before);
      expect(tunnels).toHaveLength(1);
      expect(tunnels[0]?.head.startsWith('CONNECT 127.0.0.1:9 HTTP/1.1\r\n')).toBe(true);
      const closedAt = await proxy.closeOf(before);
      expect(closedAt).toBeDefined();
      expect((closedAt ?? Infinity) - client.sentAt).toBeLessThanOrEqual(CONNECT_TIMEOUT_MS + SLACK_MS);
    },
  );
});
