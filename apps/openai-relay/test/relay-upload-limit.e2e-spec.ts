import type { NestExpressApplication } from '@nestjs/platform-express';
import { connect } from 'node:net';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../src/openai-relay.app';
import { RawUpstream } from '@openai-proxy/testing-fakes';

const LIMIT = 1_000;

/** Resolves with `value` when `event` settles it, or with `fallback` after `waitMs`. */
function within<T>(waitMs: number, fallback: T, start: (settle: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), waitMs);
    start((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** True once `answer` holds a whole HTTP answer: its head and as many body bytes as its Content-Length says. */
function wholeAnswer(answer: string): boolean {
  const headEnd = answer.indexOf('\r\n\r\n');
  if (headEnd === -1) {
    return false;
  }
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(answer.slice(0, headEnd))?.[1];
  return length !== undefined && answer.length - (headEnd + 4) >= Number(length);
}

describe('RelayService chunked upload limit', () => {
  let upstream: RawUpstream;
  let relay: NestExpressApplication;
  let port: number;
  let upstreamSaw: (head: string) => void;
  let upstreamClosed: (body: string) => void;

  beforeAll(async () => {
    upstream = await RawUpstream.start((socket, head, bodyStart) => {
      // Never answers: the body is what is watched, and whether the relay gives up on the request.
      let body = bodyStart;
      socket.on('data', (chunk: Buffer) => {
        body += chunk.toString('latin1');
      });
      socket.once('close', () => upstreamClosed(body));
      upstreamSaw(head);
    });
    relay = await createOpenAiRelayApp(
      loadOpenAiRelayConfig({
        OPENAI_API_BASE: upstream.url,
        MAX_RELAY_BODY_BYTES: String(LIMIT),
        LOG_LEVEL: 'silent',
      }),
    );
    await listenServiceApp(relay, 0, '127.0.0.1');
    port = Number(new URL(await relay.getUrl()).port);
  });

  afterAll(async () => {
    await relay.close();
    await upstream.close();
  });

  it('should answer 413 without contacting the upstream when a chunked upload grows past MAX_RELAY_BODY_BYTES', async () => {
    const sawHead = within<string | undefined>(1_000, undefined, (settle) => {
      upstreamSaw = settle;
    });
    upstreamClosed = () => undefined;
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    let answer = '';
    client.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    // The head and the body may come in separate reads: settle on the whole answer, or on the close.
    const answered = within<boolean>(3_000, false, (settle) => {
      client.on('data', () => {
        if (wholeAnswer(answer)) {
          settle(true);
        }
      });
      client.once('close', () => settle(wholeAnswer(answer)));
    });
    try {
      const piece = `${(800).toString(16)}\r\n${'a'.repeat(800)}\r\n`;
      client.write(`POST /openai/v1/uploads/parts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${piece}`);
      client.write(piece);
      expect(await answered).toBe(true);
      expect(answer.startsWith('HTTP/1.1 413')).toBe(true);
      expect(answer).toContain('"code":"payload_too_large"');
      expect(answer).toContain('"type":"invalid_request_error"');
      // The body is read to its end (or past the limit) before any upstream call: the upstream never saw it.
      expect(await sawHead).toBeUndefined();
    } finally {
      client.destroy();
    }
  });

  it('should send a chunked upload within the limit with its Content-Length, once it has ended', async () => {
    const sawHead = within<string | undefined>(3_000, undefined, (settle) => {
      upstreamSaw = settle;
    });
    const closed = within<string | undefined>(3_000, undefined, (settle) => {
      upstreamClosed = settle;
    });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    try {
      const piece = `${(400).toString(16)}\r\n${'b'.repeat(400)}\r\n`;
      client.write(`POST /openai/v1/uploads/parts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${piece}`);
      client.write(`${piece}0\r\n\r\n`);
      const head = await sawHead;
      expect(head).toContain('POST /v1/uploads/parts');
      expect(head?.toLowerCase()).toContain('content-length: 800');
      expect(head?.toLowerCase()).not.toContain('transfer-encoding');
      client.destroy();
      expect(await closed).toBe('b'.repeat(800));
    } finally {
      client.destroy();
    }
  });
});
