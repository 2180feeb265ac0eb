import { createServer as createHttpsServer } from 'node:https';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { type TLSSocket, createServer as createTlsServer } from 'node:tls';
import { Agent } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import {
  FakeConnectProxy,
  FakeSocks5Proxy,
  TEST_TLS,
  closeServer,
  listenOnLoopback,
} from '@openai-proxy/testing-fakes';
import { classifyUpstreamError } from '@openai-proxy/util-errors';
import { EgressAgent, type EgressProxy, egressConnector, openTunnel, parseEgressProxy } from './egress-proxy';
import { EgressProxyRefusedError } from './tunnel-handshake';

const TRUST_TEST_CA = { ca: TEST_TLS.cert };

/** A TCP server that answers each connection's first bytes with the same bytes. */
function echoServer(): Server {
  return createServer((socket) => socket.once('data', (chunk: Buffer) => socket.end(chunk)));
}

function exchange(socket: Socket, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString()));
    socket.once('error', reject);
    socket.write(message);
  });
}

describe(parseEgressProxy.name, () => {
  it('should decode the user info and default the port when the URL has them or not', () => {
    expect(parseEgressProxy('socks5h://clash:p%40ss@127.0.0.1:7890')).toEqual({
      protocol: 'socks5h:',
      host: '127.0.0.1',
      port: 7890,
      credentials: { username: 'clash', password: 'p@ss' },
    });
    expect(parseEgressProxy('socks5://proxy.internal')).toMatchObject({ port: 1080, credentials: undefined });
    expect(parseEgressProxy('http://[::1]')).toMatchObject({ host: '::1', port: 80 });
    expect(parseEgressProxy('https://proxy.internal')).toMatchObject({ port: 443 });
  });

  it('should throw naming the scheme when it is not one we tunnel through', () => {
    expect(() => parseEgressProxy('socks4://127.0.0.1:1080')).toThrow(/socks4:/);
  });
});

describe(openTunnel.name, () => {
  const echo = echoServer();
  let echoPort = 0;

  beforeAll(async () => {
    echoPort = (await listenOnLoopback(echo)).port;
  });

  afterAll(() => closeServer(echo));

  it('should carry bytes and let the proxy resolve the name when the target is a host name', async () => {
    const proxy = await FakeSocks5Proxy.start();
    try {
      const socket = await openTunnel(
        parseEgressProxy(proxy.url('socks5h')),
        { host: 'localhost', port: echoPort },
        { timeoutMs: 2_000, secure: false },
      );
      expect(await exchange(socket, 'through socks')).toBe('through socks');
      socket.destroy();
      expect(proxy.connects).toEqual([
        { addressType: 'domain', host: 'localhost', port: echoPort, username: undefined },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('should log in with the URL user and password when the proxy requires a login', async () => {
    const proxy = await FakeSocks5Proxy.start({ login: { username: 'clash', password: 'p@ss:word' } });
    try {
      const socket = await openTunnel(
        parseEgressProxy(proxy.url('socks5', 'clash:p%40ss%3Aword')),
        { host: '127.0.0.1', port: echoPort },
        { timeoutMs: 2_000, secure: false },
      );
      expect(await exchange(socket, 'logged in')).toBe('logged in');
      socket.destroy();
      expect(proxy.connects).toEqual([{ addressType: 'ipv4', host: '127.0.0.1', port: echoPort, username: 'clash' }]);
    } finally {
      await proxy.close();
    }
  });

  it('should reject with a refusal that classifies as 502 without credentials when the proxy refuses', async () => {
    const proxy = await FakeSocks5Proxy.start({ refuseWith: 0x02 });
    try {
      const tunnel = openTunnel(
        parseEgressProxy(proxy.url('socks5', 'clash:hunter2')),
        { host: '127.0.0.1', port: echoPort },
        { timeoutMs: 2_000, secure: false },
      );
      const error: unknown = await tunnel.catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(EgressProxyRefusedError);
      const exception = classifyUpstreamError(error, 'openai');
      expect(exception.status).toBe(502);
      expect(exception.message).toBe('Upstream openai could not be reached through the egress proxy');
      expect(JSON.stringify(exception.toEnvelope())).not.toMatch(/hunter2|clash/);
    } finally {
      await proxy.close();
    }
  });

  it('should reject with a connect timeout and close the socket when the proxy never answers', async () => {
    const sockets: Socket[] = [];
    // Reads what arrives and never answers (reading, so that the client's close is seen).
    const silent = createServer((socket) => sockets.push(socket.resume()));
    const port = (await listenOnLoopback(silent)).port;
    try {
      const closed = new Promise<void>((resolve) =>
        silent.once('connection', (socket) => socket.once('close', resolve)),
      );
      const proxy: EgressProxy = { protocol: 'socks5:', host: '127.0.0.1', port, credentials: undefined };
      const tunnel = openTunnel(proxy, { host: '127.0.0.1', port: echoPort }, { timeoutMs: 100, secure: false });
      await expect(tunnel).rejects.toMatchObject({ code: 'UND_ERR_CONNECT_TIMEOUT' });
      await closed;
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await closeServer(silent);
    }
  });

  it('should fail as a refused connection when nothing listens at the proxy address', async () => {
    const unused = createServer();
    const port = (await listenOnLoopback(unused)).port;
    await closeServer(unused);
    const proxy: EgressProxy = { protocol: 'socks5:', host: '127.0.0.1', port, credentials: undefined };
    const tunnel = openTunnel(proxy, { host: '127.0.0.1', port: echoPort }, { timeoutMs: 2_000, secure: false });
    await expect(tunnel).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe(egressConnector.name, () => {
  const upstream = createHttpsServer(TEST_TLS, (request, response) => {
    const socket = request.socket as TLSSocket;
    response.end(
      JSON.stringify({ alpn: socket.alpnProtocol, servername: (socket as { servername?: unknown }).servername }),
    );
  });
  let upstreamPort = 0;

  beforeAll(async () => {
    upstreamPort = (await listenOnLoopback(upstream)).port;
  });

  afterAll(() => closeServer(upstream));

  async function getThrough(proxy: EgressProxy): Promise<unknown> {
    const agent = new Agent({ connect: egressConnector(proxy, 2_000, TRUST_TEST_CA) });
    try {
      const answer = await agent.request({ origin: `https://localhost:${upstreamPort}`, path: '/', method: 'GET' });
      return await answer.body.json();
    } finally {
      await agent.close();
    }
  }

  it('should speak TLS to an https upstream through SOCKS5 with its name and ALPN http/1.1', async () => {
    const proxy = await FakeSocks5Proxy.start();
    try {
      expect(await getThrough(parseEgressProxy(proxy.url()))).toEqual({ alpn: 'http/1.1', servername: 'localhost' });
      expect(proxy.connects.map((connect) => connect.host)).toEqual(['localhost']);
    } finally {
      await proxy.close();
    }
  });

  it('should tunnel through an https:// proxy when the proxy itself speaks TLS', async () => {
    const connectProxy = await FakeConnectProxy.start();
    const proxyPort = Number(new URL(connectProxy.url).port);
    const sockets: Socket[] = [];
    // TLS in front of the CONNECT fake: what an https:// proxy is.
    const front = createTlsServer(TEST_TLS, (socket) => {
      const inner = connect(proxyPort, '127.0.0.1');
      sockets.push(socket, inner);
      socket.pipe(inner).pipe(socket);
      inner.once('error', () => socket.destroy());
      socket.once('error', () => inner.destroy());
    });
    const frontPort = (await listenOnLoopback(front)).port;
    try {
      const proxy: EgressProxy = { protocol: 'https:', host: 'localhost', port: frontPort, credentials: undefined };
      expect(await getThrough(proxy)).toEqual({ alpn: 'http/1.1', servername: 'localhost' });
      expect(connectProxy.tunnels).toEqual([`localhost:${upstreamPort}`]);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await Promise.all([closeServer(front), connectProxy.close()]);
    }
  });
});

describe(EgressAgent.name, () => {
  it('should be an agent of the scheme it serves when node checks it', () => {
    const proxy: EgressProxy = { protocol: 'socks5:', host: '127.0.0.1', port: 1, credentials: undefined };
    expect(new EgressAgent(proxy, true, 1_000).protocol).toBe('https:');
    expect(new EgressAgent(proxy, false, 1_000).protocol).toBe('http:');
  });

  it('should carry a wss:// upgrade through SOCKS5 when the upstream speaks TLS', async () => {
    const https = createHttpsServer(TEST_TLS);
    const server = new WebSocketServer({ server: https });
    server.on('connection', (socket) => socket.on('message', (data: Buffer) => socket.send(data)));
    const port = (await listenOnLoopback(https)).port;
    const proxy = await FakeSocks5Proxy.start();
    const agent = new EgressAgent(parseEgressProxy(proxy.url()), true, 2_000, TRUST_TEST_CA);
    try {
      const client = new WebSocket(`wss://localhost:${port}/`, { agent });
      await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
      const echoed = new Promise<string>((resolve) =>
        client.once('message', (data: Buffer) => resolve(data.toString())),
      );
      client.send('secure socks');
      expect(await echoed).toBe('secure socks');
      expect(proxy.connects.map((connect) => connect.host)).toEqual(['localhost']);
      const closed = new Promise((resolve) => client.once('close', resolve));
      client.close();
      await closed;
    } finally {
      agent.destroy();
      server.close();
      await Promise.all([closeServer(https), proxy.close()]);
    }
  });
});
