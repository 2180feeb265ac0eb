import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ClientOptions, WebSocket } from 'ws';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

/** How much of a refusal's body is passed on (an error envelope is far smaller); the rest is dropped. */
const REFUSAL_BODY_LIMIT_BYTES = 64 * 1024;

/** How the upstream answered our upgrade, or that the client left before it did. */
export type UpstreamHandshake =
  | { kind: 'open'; upstream: WebSocket; headers: IncomingHttpHeaders }
  | { kind: 'refused'; status: number; headers: IncomingHttpHeaders; body: Buffer }
  | { kind: 'gone' };

export interface HandshakeContext {
  /** The client's socket, still waiting for its answer: if it closes, the upstream attempt is abandoned. */
  client: Duplex;
  /** Time from the attempt to the upstream's answer (connect included). */
  timeoutMs: number;
  upstreamName: string;
}

/** Reads a refusal's body, up to the limit. */
function readRefusal(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (): void => resolve(Buffer.concat(chunks));
    response.on('data', (chunk: Buffer) => {
      if (length < REFUSAL_BODY_LIMIT_BYTES) {
        chunks.push(chunk.subarray(0, REFUSAL_BODY_LIMIT_BYTES - length));
        length += chunk.length;
      }
    });
    response.once('end', done);
    response.once('error', done);
    response.once('close', done);
  });
}

/** The `ws` client, or a 400 when the client offered subprotocols ws will not send (bad or repeated names). */
function createClient(url: string, protocols: string[], options: ClientOptions): WebSocket {
  try {
    return new WebSocket(url, protocols, options);
  } catch {
    throw new GatewayException(ErrorCode.InvalidRequest, 'Invalid Sec-WebSocket-Protocol header');
  }
}

/**
 * Opens the upstream WebSocket. Once open it is paused, so that no frame arrives before the client's side is
 * joined to it; a refusal is read (status, headers, body) and the attempt closed; failures reject (the
 * caller classifies them); a timeout rejects with `upstream_timeout`.
 */
export function openUpstreamWebSocket(
  url: string,
  protocols: string[],
  options: ClientOptions,
  context: HandshakeContext,
): Promise<UpstreamHandshake> {
  const upstream = createClient(url, protocols, options);
  return new Promise<UpstreamHandshake>((resolve, reject) => {
    let headers: IncomingHttpHeaders = {};
    const settle = settleOnce(upstream, context, resolve, reject);
    upstream.on('error', (error: Error) => settle({ kind: 'failed', error }));
    upstream.once('upgrade', (response: IncomingMessage) => {
      headers = response.headers;
    });
    upstream.once('open', () => {
      upstream.pause();
      settle({ kind: 'open', upstream, headers });
    });
    upstream.once('unexpected-response', (_request: ClientRequest, response: IncomingMessage) => {
      void readRefusal(response).then((body) => {
        settle({ kind: 'refused', status: response.statusCode ?? 502, headers: response.headers, body });
        upstream.terminate();
      });
    });
  });
}

type Outcome = UpstreamHandshake | { kind: 'failed'; error: unknown };

/**
 * The one way the attempt ends: the first outcome wins, the timer and the client watch go, and a failure,
 * a timeout or the client leaving closes the upstream attempt.
 */
function settleOnce(
  upstream: WebSocket,
  context: HandshakeContext,
  resolve: (handshake: UpstreamHandshake) => void,
  reject: (error: unknown) => void,
): (outcome: Outcome) => void {
  let settled = false;
  const settle = (outcome: Outcome): void => {
    if (settled) {
      return;
    }
    settled = true;
    clearTimeout(timer);
    context.client.off('close', onClientGone);
    if (outcome.kind === 'failed' || outcome.kind === 'gone') {
      upstream.terminate();
    }
    if (outcome.kind === 'failed') {
      reject(outcome.error);
    } else {
      resolve(outcome);
    }
  };
  const onClientGone = (): void => settle({ kind: 'gone' });
  const timer = setTimeout(() => {
    const message = `Upstream ${context.upstreamName} did not answer in time`;
    settle({ kind: 'failed', error: new GatewayException(ErrorCode.UpstreamTimeout, message) });
  }, context.timeoutMs);
  context.client.once('close', onClientGone);
  return settle;
}
