import { type Socket, connect } from 'node:net';
import { shutdownServiceApp } from '@openai-proxy/feature-platform';
import { delayed, json, sse } from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { type RelayOnFakeOpenAi, startRelayOnFakeOpenAi } from './support/relay-app';

// The drain's rule for connections that are open when it starts: a request still arriving on one is served, and
// its answer says `Connection: close`, so the client (or the load balancer) moves its next request elsewhere and
// the connection ends with that answer instead of being cut under a request later.

const DRAIN_ENV = { SHUTDOWN_DRAIN_MS: '5000' };
/** Longest the raw connection waits for the server to close it. */
const CLOSE_WAIT_MS = 5_000;
const FRAMES = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n', 'data: {"n":3}\n\n', 'data: [DONE]\n\n'];
const MODELS = { object: 'list', data: [] };

/** The answer heads on a connection, in order: each one's status and headers (names lower-cased). */
function answerHeads(text: string): Array<{ status: number; headers: Record<string, string> }> {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n/g)].map((match) => ({
    status: Number(match[1]),
    headers: Object.fromEntries(
      (match[2] ?? '')
        .split('\r\n')
        .filter((line) => line !== '')
        .map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
    ),
  }));
}

/** One keep-alive connection written by hand, read until the server closes it (bounded). */
class RawConnection {
  text = '';
  readonly closed: Promise<boolean>;
  private readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve(false);
      }, CLOSE_WAIT_MS);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  send(head: string, body = ''): void {
    this.socket.write(`${head}\r\n\r\n${body}`, 'latin1');
  }

  /** Resolves once `wanted` was read (bounded by the close wait). */
  async readUntil(wanted: string): Promise<void> {
    for (let look = 0; look < CLOSE_WAIT_MS / 10 && !this.text.includes(wanted); look += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] });
const STREAM_HEAD = [
  'POST /openai/v1/chat/completions HTTP/1.1',
  'Host: relay.test',
  'Authorization: Bearer sk-drain-0123456789',
  'Content-Type: application/json',
  `Content-Length: ${Buffer.byteLength(STREAM_BODY)}`,
].join('\r\n');
const MODELS_HEAD = [
  'GET /openai/v1/models HTTP/1.1',
  'Host: relay.test',
  'Authorization: Bearer sk-drain-0123456789',
].join('\r\n');

/** Expects `text` to hold, after `before` whole answers, one 200 models answer saying `Connection: close`. */
function expectClosingModelsAnswer(text: string, before: number): void {
  const heads = answerHeads(text);
  expect(heads).toHaveLength(before + 1);
  expect(heads[before]?.status).toBe(200);
  expect(heads[before]?.headers.connection).toBe('close');
  expect(text.endsWith(`${JSON.stringify(MODELS)}\r\n0\r\n\r\n`)).toBe(true);
}

describe('rule: during the drain, a request arriving on an open connection is answered with Connection: close', () => {
  let relay: RelayOnFakeOpenAi;
  const connections: RawConnection[] = [];

  /** A raw keep-alive connection to the relay, destroyed after the test. */
  function open(): RawConnection {
    const connection = new RawConnection(relay.port);
    connections.push(connection);
    return connection;
  }

  /** Starts the relay's drain, as SIGTERM does; resolves when it is over and the app closed. */
  function startDrain(): Promise<void> {
    return shutdownServiceApp(relay.app, loadOpenAiRelayConfig(DRAIN_ENV).platform);
  }

  beforeEach(async () => {
    relay = await startRelayOnFakeOpenAi(DRAIN_ENV);
    relay.openai.on('GET', '/v1/models', json(200, MODELS));
  });

  afterEach(async () => {
    connections.splice(0).forEach((connection) => connection.destroy());
    await relay.close();
  });

  it('should answer a request sent on a connection still streaming when the drain started with Connection: close, then close it', async () => {
    relay.openai.on('POST', '/v1/chat/completions', sse({ frames: FRAMES, intervalMs: 200 }));
    const connection = open();
    connection.send(STREAM_HEAD, STREAM_BODY);
    await connection.readUntil(FRAMES[0] ?? '');
    const drained = startDrain();
    // Sent behind the stream on its connection: the server reads it during the drain, and answers it after.
    connection.send(MODELS_HEAD);
    expect(await connection.closed).toBe(true);
    await drained;
    // The stream's head went out before the drain: it kept the connection; the answer after it closes it.
    expect(answerHeads(connection.text)[0]?.headers.connection).toBe('keep-alive');
    expect(FRAMES.filter((frame) => !connection.text.includes(frame))).toEqual([]);
    expectClosingModelsAnswer(connection.text, 1);
  });

  it('should answer a request sent on a connection left idle during the drain with Connection: close, then close it', async () => {
    // A long stream on another connection keeps the drain going while this one finishes its call and sits idle.
    relay.openai.on('POST', '/v1/chat/completions', sse({ frames: FRAMES, intervalMs: 400 }));
    const long = open();
    long.send(STREAM_HEAD, STREAM_BODY);
    await long.readUntil(FRAMES[0] ?? '');
    relay.openai.on('GET', '/v1/models', delayed(300, json(200, MODELS)));
    const connection = open();
    connection.send(MODELS_HEAD);
    await relay.openai.waitForRequest((request) => request.url === '/v1/models');
    const drained = startDrain();
    await connection.readUntil('\r\n0\r\n\r\n');
    relay.openai.on('GET', '/v1/models', json(200, MODELS));
    connection.send(MODELS_HEAD);
    expect(await connection.closed).toBe(true);
    expectClosingModelsAnswer(connection.text, 1);
    // The drain was still on: the stream on the other connection had not ended when this one closed.
    expect(long.text).not.toContain('[DONE]');
    expect(await long.closed).toBe(true);
    expect(long.text).toContain('data: [DONE]');
    await drained;
  });
});
