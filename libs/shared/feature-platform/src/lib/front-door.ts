import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { collectEdgeHeaders } from './edge-headers';
import { sendErrorResponse } from './error-response';
import { escapesBasePath, hasFragment, pathnameOf } from './path-guard';
import type { RawRouteRegistry } from './raw-route.registry';
import type { RequestTracker } from './request-tracker.service';
import { installUpgradeDoor } from './upgrade-door';

/** Metrics label of a refused path: the one Express gives any path no route matched. */
const REFUSED_PATH_LABEL = 'unmatched';
const DOT_SEGMENT_MESSAGE = 'The request path may not contain "." or ".." segments, plain or percent-encoded';
const FRAGMENT_MESSAGE = 'The request target may not contain a "#" fragment';

/**
 * Why no route may serve this request target (`pathname` is its path), for requests and upgrades alike;
 * undefined when one may.
 */
function refusalOf(target: string, pathname: string): GatewayException | undefined {
  // Checked once here, for the relays and the Nest routes alike: no target may carry a fragment upstream, and
  // no path may step out of where it is sent.
  if (hasFragment(target)) {
    return new GatewayException(ErrorCode.InvalidRequest, FRAGMENT_MESSAGE);
  }
  return escapesBasePath(pathname) ? new GatewayException(ErrorCode.InvalidRequest, DOT_SEGMENT_MESSAGE) : undefined;
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
    const target = request.url ?? '/';
    const pathname = pathnameOf(target);
    const refusal = refusalOf(target, pathname);
    if (refusal !== undefined) {
      collectEdgeHeaders(response);
      tracker.begin(request, response, () => REFUSED_PATH_LABEL);
      sendErrorResponse(response, refusal, logger);
      return;
    }
    const route = registry.find(pathname);
    if (route === undefined) {
      application(request, response);
      return;
    }
    collectEdgeHeaders(response);
    tracker.begin(request, response, () => route.label);
    route.handle(request, response).catch((error: unknown) => sendErrorResponse(response, error, logger));
  });
  // WebSocket upgrades are refused and find their route the same way.
  installUpgradeDoor(server, { refuse: refusalOf, find: (pathname) => registry.find(pathname) }, tracker, logger);
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
