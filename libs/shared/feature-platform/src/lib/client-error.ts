import { type Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { createOpenAiErrorEnvelope } from '@openai-proxy/util-openai-schema';

/** What a request Node's HTTP parser refused gets: a status and the message of its error envelope. */
interface RefusedRequestAnswer {
  status: number;
  message: string;
}

/** The answer for the parser's error `code`, as Node's own default picks the status (400, 431, 408). */
function answerFor(code: string | undefined): RefusedRequestAnswer {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, message: 'Request headers are too large' };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, message: 'Request timed out' };
  }
  return { status: 400, message: 'Malformed HTTP request' };
}

/** The whole HTTP answer, head and JSON body, written to the socket itself (no response object exists). */
function rawAnswer({ status, message }: RefusedRequestAnswer): string {
  const body = JSON.stringify(createOpenAiErrorEnvelope(message, 'invalid_request_error'));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** True when an answer to an earlier request on `socket` already sent its head: nothing more may go out. */
function responseStarted(socket: Duplex): boolean {
  const current: unknown = Reflect.get(socket, '_httpMessage');
  return current instanceof ServerResponse && current.headersSent;
}

/**
 * Answers a request Node's HTTP parser refused (bad framing, bare LF, Content-Length with Transfer-Encoding,
 * headers too large, a head that took too long) with an OpenAI error envelope instead of Node's bare
 * `400 Bad Request`, then closes the connection. Nothing of the refused bytes is echoed or logged. When the
 * socket can no longer be written, or an answer was already under way on it, the socket is only closed.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: Error, socket: Duplex) => {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    if (socket.writable && code !== 'ECONNRESET' && !responseStarted(socket)) {
      socket.write(rawAnswer(answerFor(code)));
    }
    socket.destroy();
  });
}
