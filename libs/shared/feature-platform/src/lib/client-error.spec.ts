import { type Server, type ServerOptions, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { answerClientErrors } from './client-error';

/** Longest a raw exchange waits for the server to close. */
const WAIT_MS = 3_000;

/** Starts a server on 127.0.0.1 that answers `200 partial` and holds the body open, refused requests answered. */
async function startServer(options: ServerOptions = {}): Promise<Server> {
  const server = createServer(options, (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('partial');
  });
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Writes each of `writes` on one connection (the next once `waitFor` of the one before came back, if given)
 * and resolves with every byte that came back once the server closed it, or after a bounded wait.
 */
function rawExchange(server: Server, writes: ReadonlyArray<{ bytes: string; waitFor?: string }>): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const pending = [...writes];
    let text = '';
    let awaited: string | undefined;
    const writeNext = (): void => {
      const next = pending.shift();
      if (next !== undefined) {
        awaited = next.waitFor;
        socket.write(next.bytes, 'latin1');
        if (awaited === undefined) {
          writeNext();
        }
      }
    };
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(finish, WAIT_MS);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (awaited !== undefined && text.includes(awaited)) {
        awaited = undefined;
        writeNext();
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', finish);
    socket.once('connect', writeNext);
  });
}

/** The answer Node's parser refusal gets: status line, JSON envelope, connection closed. */
function refusal(status: string, message: string): string {
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } });
  return (
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

describe(answerClientErrors.name, () => {
  let server: Server;

  afterEach(() => closeServer(server));

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['a bare LF ending the request line', 'GET /x HTTP/1.1\nHost: x\r\n\r\n'],
    ['a request line that is no HTTP', 'sk-secret0123456789abcdef please\r\n\r\n'],
  ])('should answer %s with 400 and the OpenAI error envelope, echoing none of it', async (_name, bytes) => {
    server = await startServer();
    const text = await rawExchange(server, [{ bytes }]);
    expect(text).toBe(refusal('400 Bad Request', 'Malformed HTTP request'));
  });

  it('should answer headers over the size limit with 431', async () => {
    server = await startServer({ maxHeaderSize: 1_024 });
    const text = await rawExchange(server, [
      { bytes: `GET /x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2_000)}\r\n\r\n` },
    ]);
    expect(text).toBe(refusal('431 Request Header Fields Too Large', 'Request headers are too large'));
  });

  it('should answer a head that did not arrive in time with 408', async () => {
    server = await startServer({ headersTimeout: 100, requestTimeout: 150, connectionsCheckingInterval: 25 });
    const text = await rawExchange(server, [{ bytes: 'GET /x HTTP/1.1\r\nHost: x\r\n' }]);
    expect(text).toBe(refusal('408 Request Timeout', 'Request timed out'));
  });

  it('should only close the connection when an answer to an earlier request already went out on it', async () => {
    server = await startServer();
    const text = await rawExchange(server, [
      { bytes: 'GET /first HTTP/1.1\r\nHost: x\r\n\r\n', waitFor: 'partial' },
      { bytes: 'GET /second HTTP/1.1\nHost: x\r\n\r\n' },
    ]);
    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(text).not.toContain('HTTP/1.1 400');
    expect(text).not.toContain('error');
  });
});
