import type { ServerResponse } from 'node:http';

/**
 * An AbortSignal for the upstream calls made on behalf of one client: it fires when the client's response
 * closes before it finished (the client left), or at once when the connection is already gone. Watches the
 * response's `close`, not the request's: the request ends as soon as its body was read.
 */
export function clientLeftSignal(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (response.destroyed || response.socket === null || response.socket.destroyed) {
    controller.abort();
    return controller.signal;
  }
  response.once('close', () => {
    if (!response.writableFinished) {
      controller.abort();
    }
  });
  return controller.signal;
}
