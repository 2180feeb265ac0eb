import { createServer as createHttpServer } from 'node:http';
import { type Server, type Socket, createServer as createNetServer } from 'node:net';
import { headThenGet } from './head-then-get';
import { closeServer, listenOnLoopback } from './loopback-server';

const BODY = '{"data":["é"]}';

/** Answers every request on a connection with BODY, HEAD included (the bug), and closes after the second. */
function bodyOnHeadServer(): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let received = '';
    let answered = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      while (received.split('\r\n\r\n').length - 1 > answered) {
        answered += 1;
        const length = Buffer.byteLength(BODY);
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n${BODY}`);
      }
      if (answered >= 2) {
        socket.end();
      }
    });
  });
  return { server, sockets };
}

describe(headThenGet.name, () => {
  it('should see no bytes after the HEAD headers and the GET body when the server answers HEAD like GET', async () => {
    const sent: Array<string | string[] | undefined> = [];
    const server = createHttpServer((request, response) => {
      sent.push(request.headers['x-test']);
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
      response.end(BODY);
    });
    const { url } = await listenOnLoopback(server);
    try {
      const exchange = await headThenGet(url, '/models', { 'x-test': 'yes' });
      const length = String(Buffer.byteLength(BODY));
      expect(exchange.head).toEqual({ status: 200, headers: expect.objectContaining({ 'content-length': length }) });
      expect(exchange.bytesAfterHead).toBe('');
      expect(exchange.get).toMatchObject({ status: 200, body: BODY });
      expect(sent).toEqual(['yes', 'yes']);
    } finally {
      await closeServer(server);
    }
  });

  it('should see the body bytes between the answers when a server sends a body on HEAD (fetch shows none)', async () => {
    const { server, sockets } = bodyOnHeadServer();
    const { url } = await listenOnLoopback(server);
    try {
      const exchange = await headThenGet(url, '/models', {});
      expect(exchange.bytesAfterHead).toBe(Buffer.from(BODY).toString('latin1'));
      expect(exchange.get).toMatchObject({ status: 200, body: BODY });
    } finally {
      for (const socket of sockets) {
        socket.destroy();
      }
      await closeServer(server);
    }
  });
});
