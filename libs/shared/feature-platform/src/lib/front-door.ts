import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { collectEdgeHeaders } from './edge-headers';
import { sendErrorResponse } from './error-response';
import type { RawRouteRegistry } from './raw-route.registry';
import type { RequestTracker } from './request-tracker.service';
import { installUpgradeDoor } from './upgrade-door';

function pathnameOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Puts the raw routes in front of Express on the server: a request for a relay path goes straight to its
 * route (no Express router, no Nest pipeline), everything else to the Nest application as before.
 */
export function installFrontDoor(
  server: Server,
  registry: RawRouteRegistry,
  tracker: RequestTracker,
  logger: Logger,
): void {
  const application = server.listeners('request')[0] as RequestListener | undefined;
  if (application === undefined) {
    throw new Error('The HTTP server has no request listener to put a front door before');
  }
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const route = registry.find(pathnameOf(request.url ?? '/'));
    if (route === undefined) {
      application(request, response);
      return;
    }
    collectEdgeHeaders(response);
    tracker.begin(request, response, () => route.label);
    route.handle(request, response).catch((error: unknown) => sendErrorResponse(response, error, logger));
  });
  // WebSocket upgrades find their route the same way.
  installUpgradeDoor(server, (url) => registry.find(pathnameOf(url)), tracker, logger);
}

/**
 * `Expect: 100-continue`: a body declared larger than `limitBytes` is not invited (no 100 Continue, and the
 * connection closes after the answer); every other request is invited and handled as usual.
 */
export function answerExpectContinue(server: Server, limitBytes: number): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length'] ?? 0) > limitBytes) {
      response.shouldKeepAlive = false;
    } else {
      response.writeContinue();
    }
    server.emit('request', request, response);
  });
}
