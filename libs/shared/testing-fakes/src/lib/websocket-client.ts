import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { type ClientOptions, type RawData, WebSocket } from 'ws';
import { DEFAULT_WAIT_MS } from './waiters';

/** `http://host:port` → `ws://host:port`, so tests can use a service's URL as it is. */
export function webSocketUrl(httpUrl: string, path: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}${path}`;
}

/** Resolves or rejects within `timeoutMs`, whatever `start` does; the timer is always cleared. */
function bounded<T>(
  what: string,
  timeoutMs: number,
  start: (resolve: (value: T) => void, reject: (error: Error) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => undefined;
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const settle =
      <A>(action: (argument: A) => void) =>
      (argument: A): void => {
        clearTimeout(timer);
        cleanup();
        action(argument);
      };
    cleanup = start(settle(resolve), settle(reject));
  });
}

/** Opens a `ws` client; rejects when the upgrade is refused or fails. */
export function openWebSocket(
  url: string,
  protocols: string[] = [],
  options: ClientOptions = {},
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<WebSocket> {
  const socket = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
  socket.on('error', () => undefined);
  return bounded<WebSocket>('the WebSocket to open', timeoutMs, (resolve, reject) => {
    const onOpen = (): void => resolve(socket);
    const onFailure = (): void => {
      socket.terminate();
      reject(new Error(`WebSocket to ${new URL(url).pathname} did not open`));
    };
    socket.once('open', onOpen);
    socket.once('close', onFailure);
    return () => {
      socket.off('open', onOpen);
      socket.off('close', onFailure);
    };
  });
}

/** What a refused upgrade answered. */
export interface RefusedUpgrade {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Attempts an upgrade that the far end refuses; resolves with its answer (the `ws` 'unexpected-response'). */
export function refusedWebSocket(
  url: string,
  options: ClientOptions = {},
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<RefusedUpgrade> {
  const socket = new WebSocket(url, [], { perMessageDeflate: false, ...options });
  socket.on('error', () => undefined);
  return bounded<RefusedUpgrade>('a refused upgrade', timeoutMs, (resolve, reject) => {
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => {
        socket.terminate();
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('The upgrade was accepted'));
    });
    return () => undefined;
  });
}

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
}

/** The next message the socket receives (bounded wait). */
export function nextMessage(socket: WebSocket, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedMessage> {
  return bounded<ReceivedMessage>('a message', timeoutMs, (resolve) => {
    const onMessage = (data: RawData, isBinary: boolean): void =>
      resolve({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary });
    socket.once('message', onMessage);
    return () => socket.off('message', onMessage);
  });
}

/** The payload of the next ping or pong the socket receives (bounded wait). */
export function nextControlFrame(
  socket: WebSocket,
  kind: 'ping' | 'pong',
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<Buffer> {
  return bounded<Buffer>(`a ${kind}`, timeoutMs, (resolve) => {
    socket.once(kind, resolve);
    return () => socket.off(kind, resolve);
  });
}

/** How the socket closed: the code and reason it received (bounded wait). */
export function closeOf(socket: WebSocket, timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) {
    return Promise.reject(new Error('The socket closed before anyone waited for it'));
  }
  return bounded('the socket to close', timeoutMs, (resolve) => {
    const onClose = (code: number, reason: Buffer): void => resolve({ code, reason: reason.toString('utf8') });
    socket.once('close', onClose);
    return () => socket.off('close', onClose);
  });
}
