import { Server as HttpServer } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Server } from 'node:net';

/** Where a server on 127.0.0.1 listens: its port and its `http://127.0.0.1:<port>` base URL. */
export interface LoopbackAddress {
  url: string;
  port: number;
}

/** The address of a server listening on 127.0.0.1; throws when it does not listen (yet, or any more). */
export function loopbackAddress(server: Server): LoopbackAddress {
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('The server is not listening on a TCP port');
  }
  return { url: `http://127.0.0.1:${address.port}`, port: address.port };
}

/** Listens on 127.0.0.1, on a port the OS picks (so tests never clash), and resolves with where. */
export function listenOnLoopback(server: Server): Promise<LoopbackAddress> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(loopbackAddress(server));
    });
  });
}

/**
 * Closes a server and resolves once it is closed. An HTTP(S) server first drops its connections (keep-alive
 * ones included), which `close()` alone would wait for; other sockets are the caller's to destroy.
 */
export function closeServer(server: Server): Promise<void> {
  if (server instanceof HttpServer || server instanceof HttpsServer) {
    server.closeAllConnections();
  }
  return new Promise((resolve) => server.close(() => resolve()));
}
