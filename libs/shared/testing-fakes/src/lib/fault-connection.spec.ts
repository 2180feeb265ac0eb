import { Agent as HttpAgent, type ClientRequest, request as httpRequest } from 'node:http';
import { Agent, request } from 'undici';
import type { WebSocket } from 'ws';
import { readChunks } from './body-chunks';
import { FakeWebSocketUpstream } from './fake-websocket';
import { dropWebSocket } from './fault-websocket';
import { FaultUpstream } from './fault-upstream';
import { closeOf, openWebSocket, webSocketUrl } from './websocket-client';

/** What a node:http client saw for one request: the body, or the error and whether the socket was a reused one. */
function httpExchange(url: string, agent: HttpAgent): Promise<{ body?: string; error?: string; reused: boolean }> {
  return new Promise((resolve) => {
    const client: ClientRequest = httpRequest(url, { agent, method: 'POST' }, (response) => {
      void readChunks(response).then((read) =>
        resolve({ body: Buffer.concat(read.chunks).toString(), reused: client.reusedSocket }),
      );
    });
    client.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message, reused: client.reusedSocket }),
    );
    client.end('{}');
  });
}

describe(`${FaultUpstream.name} connections`, () => {
  let fault: FaultUpstream | undefined;

  afterEach(async () => {
    await fault?.close();
  });

  it('should close an idle connection sooner than the keep-alive it advertises', async () => {
    fault = await FaultUpstream.start({ keepAliveTimeoutMs: 50 });
    const agent = new Agent({ keepAliveTimeout: 10_000 });
    const disconnected = new Promise<void>((resolve) => agent.once('disconnect', () => resolve()));
    try {
      const first = await request(fault.url, { dispatcher: agent });
      await first.body.dump();
      expect(first.headers['keep-alive']).toBe('timeout=5');
      const closedAt = await fault.waitForSocketClose(await fault.waitForRecord(0));
      await disconnected;
      const second = await request(fault.url, { dispatcher: agent });
      expect(await second.body.json()).toEqual({ ok: true });
      const [early, late] = fault.records;
      expect(closedAt - (early?.headersSentAt ?? Infinity)).toBeGreaterThanOrEqual(40);
      expect([early?.connection, late?.connection, late?.requestOnConnection]).toEqual([1, 2, 1]);
    } finally {
      await agent.close();
    }
  });

  it('should hang up on a request that arrives on a reused connection, as a lost keep-alive race', async () => {
    fault = await FaultUpstream.start({ keepAliveTimeoutMs: 5_000 });
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await httpExchange(fault.url, agent)).toEqual({ body: '{"ok":true}', reused: false });
      fault.next({ kind: 'hang-up', how: 'close' });
      expect(await httpExchange(fault.url, agent)).toEqual({ error: 'ECONNRESET', reused: true });
      const lost = await fault.waitForRecord(1);
      await fault.waitForSocketClose(lost);
      expect(lost).toMatchObject({ connection: 1, requestOnConnection: 2, headersSentAt: undefined, writes: [] });
      expect(lost.request.closedEarly).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('should reset a connection on arrival, so the client sees a connection error before any byte', async () => {
    fault = await FaultUpstream.start();
    fault.next({ kind: 'hang-up', how: 'reset' });
    const agent = new Agent();
    try {
      await expect(request(fault.url, { dispatcher: agent })).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      await agent.close();
    }
    const record = await fault.waitForRecord();
    await fault.waitForSocketClose(record);
    expect(record.headersSentAt).toBeUndefined();
  });
});

describe(dropWebSocket.name, () => {
  let fake: FakeWebSocketUpstream;
  let client: WebSocket | undefined;

  beforeEach(async () => {
    fake = await FakeWebSocketUpstream.start();
  });

  afterEach(async () => {
    client?.terminate();
    await fake.close();
  });

  it('should drop the connection without a close frame after the planned messages', async () => {
    const socket = await openWebSocket(webSocketUrl(fake.url, '/v1/realtime'));
    client = socket;
    const received: string[] = [];
    socket.on('message', (data: Buffer) => received.push(data.toString()));
    const closed = closeOf(socket);
    socket.send('one');
    socket.send('two');

    const dropped = await dropWebSocket(fake, { afterReceived: 2, send: ['last words'] });
    expect(await closed).toEqual({ code: 1006, reason: '' });
    expect(received).toEqual(['one', 'two', 'last words']);
    expect(dropped.messages.map((message) => message.data.toString())).toEqual(['one', 'two']);
    expect(dropped.closed).toEqual({ code: 1006, reason: '' });
  });
});
