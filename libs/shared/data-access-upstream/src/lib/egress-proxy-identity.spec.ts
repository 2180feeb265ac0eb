import { type Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Agent } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import {
  FakeConnectProxy,
  FakeSocks5Proxy,
  TEST_TLS_IP_ONLY,
  TEST_TLS_NAME_ONLY,
  closeServer,
  listenOnLoopback,
} from '@openai-proxy/testing-fakes';
import { EgressAgent, type EgressProxy, egressConnector, parseEgressProxy } from './egress-proxy';

// Regression: a tunnelled TLS upstream addressed by IP had its certificate checked against the proxy's host
// name. The proxies here are addressed as `localhost`, the upstreams as 127.0.0.1, so a certificate for the
// name alone passes only if the check looks at the proxy.
const TRUST_BOTH = { ca: [TEST_TLS_NAME_ONLY.cert, TEST_TLS_IP_ONLY.cert] };
const CERTIFICATES = { 'name-only': TEST_TLS_NAME_ONLY, 'ip-only': TEST_TLS_IP_ONLY } as const;
/** Node's refusal when the certificate is checked against the upstream's address (and lacks it). */
const CHECKED_AGAINST_THE_IP = /IP: 127\.0\.0\.1 is not in the cert's list/;
type CertificateKind = keyof typeof CERTIFICATES;
type ProxyKind = 'http CONNECT' | 'socks5';

interface ProxyUnderTest {
  proxy: EgressProxy;
  close(): Promise<void>;
}

/** The fake proxy of that kind, addressed as `localhost` (it listens on 127.0.0.1). */
async function startProxy(kind: ProxyKind): Promise<ProxyUnderTest> {
  const fake = kind === 'socks5' ? await FakeSocks5Proxy.start() : await FakeConnectProxy.start();
  const url = fake instanceof FakeSocks5Proxy ? fake.url() : fake.url;
  return { proxy: parseEgressProxy(url.replace('127.0.0.1', 'localhost')), close: () => fake.close() };
}

/** An https upstream with that certificate, answering the SNI it got and echoing WebSocket messages. */
function upstreamWith(kind: CertificateKind): HttpsServer {
  const server = createHttpsServer(CERTIFICATES[kind], (request, response) => {
    const servername = (request.socket as TLSSocket & { servername?: string | false }).servername;
    response.end(JSON.stringify({ servername: servername || null }));
  });
  const sockets = new WebSocketServer({ server });
  sockets.on('connection', (socket) => socket.on('message', (data: Buffer) => socket.send(data)));
  server.once('close', () => sockets.close());
  return server;
}

async function getThrough(proxy: EgressProxy, port: number): Promise<unknown> {
  const agent = new Agent({ connect: egressConnector(proxy, 2_000, TRUST_BOTH) });
  try {
    const answer = await agent.request({ origin: `https://127.0.0.1:${port}`, path: '/', method: 'GET' });
    return await answer.body.json();
  } finally {
    await agent.close();
  }
}

/** Opens a wss:// connection through the agent, sends one message and resolves with its echo. */
async function echoThrough(proxy: EgressProxy, port: number): Promise<string> {
  const agent = new EgressAgent(proxy, true, 2_000, TRUST_BOTH);
  const client = new WebSocket(`wss://127.0.0.1:${port}/`, { agent });
  try {
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    const echoed = new Promise<string>((resolve) => client.once('message', (data: Buffer) => resolve(data.toString())));
    client.send('by address');
    return await echoed;
  } finally {
    // A failed handshake has closed it already.
    if (client.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => client.once('close', resolve));
      client.close();
      await closed;
    }
    agent.destroy();
  }
}

describe.each<ProxyKind>(['http CONNECT', 'socks5'])('the upstream certificate through %s', (proxyKind) => {
  const upstreams = { 'name-only': upstreamWith('name-only'), 'ip-only': upstreamWith('ip-only') };
  const ports: Record<CertificateKind, number> = { 'name-only': 0, 'ip-only': 0 };
  let proxy: ProxyUnderTest;

  beforeAll(async () => {
    ports['name-only'] = (await listenOnLoopback(upstreams['name-only'])).port;
    ports['ip-only'] = (await listenOnLoopback(upstreams['ip-only'])).port;
    proxy = await startProxy(proxyKind);
  });

  afterAll(async () => {
    await Promise.all([closeServer(upstreams['name-only']), closeServer(upstreams['ip-only']), proxy.close()]);
  });

  describe(egressConnector.name, () => {
    it('should refuse a certificate for the proxy host name when the upstream is addressed by IP', async () => {
      await expect(getThrough(proxy.proxy, ports['name-only'])).rejects.toThrow(CHECKED_AGAINST_THE_IP);
    });

    it('should accept a certificate for the IP and send no SNI when the upstream is addressed by IP', async () => {
      expect(await getThrough(proxy.proxy, ports['ip-only'])).toEqual({ servername: null });
    });
  });

  describe(EgressAgent.name, () => {
    it('should refuse a certificate for the proxy host name when the wss upstream is addressed by IP', async () => {
      await expect(echoThrough(proxy.proxy, ports['name-only'])).rejects.toThrow(CHECKED_AGAINST_THE_IP);
    });

    it('should accept a certificate for the IP when the wss upstream is addressed by IP', async () => {
      expect(await echoThrough(proxy.proxy, ports['ip-only'])).toBe('by address');
    });
  });
});
