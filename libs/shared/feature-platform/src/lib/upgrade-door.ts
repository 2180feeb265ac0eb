import { type IncomingMessage, STATUS_CODES, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type OutgoingHeaders, redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { toGatewayException } from './error-response';
import { pathnameOf } from './path-guard';
import type { RawRoute } from './raw-route.registry';
import type { RequestTracker } from './request-tracker.service';

/**
 * Writes a whole HTTP answer on the raw socket of an upgrade request (there is no ServerResponse for one) and
 * closes the connection once it is written. Header values come from Node's parser or from us: no CR or LF.
 */
export function answerUpgrade(socket: Duplex, status: number, headers: OutgoingHeaders, body: Buffer): void {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`];
  for (const [name, value] of Object.entries({ ...headers, 'content-length': String(body.length) })) {
    for (const one of Array.isArray(value) ? value : [value]) {
      lines.push(`${name}: ${one}`);
    }
  }
  lines.push('connection: close', '', '');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]), () => socket.destroy());
}

/** Answers an upgrade with any error in the OpenAI envelope and closes the socket; returns the status sent. */
export function sendUpgradeError(socket: Duplex, error: unknown, logger: Logger): number {
  const exception = toGatewayException(error);
  if (exception.code === ErrorCode.Internal) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown';
    logger.error({ context: 'Errors' }, redactText(detail));
  }
  const body = Buffer.from(JSON.stringify(exception.toEnvelope()));
  answerUpgrade(
    socket,
    exception.status,
    { ...exception.headers, 'content-type': 'application/json; charset=utf-8' },
    body,
  );
  return exception.status;
}

function isWebSocketUpgrade(request: IncomingMessage): boolean {
  return request.headers.upgrade?.toLowerCase() === 'websocket';
}

/**
 * Serves an upgrade that is not a WebSocket (such as `Upgrade: h2c`) as the plain request it also is, the way
 * Node does when a server has no 'upgrade' listener: the upgrade is declined and the connection closes after.
 */
function serveAsPlainRequest(server: Server, request: IncomingMessage, socket: Duplex): void {
  // Node hands every upgrade a net.Socket; the event is typed with its base class.
  const connection = socket as Socket;
  const response = new ServerResponse(request);
  response.shouldKeepAlive = false;
  response.assignSocket(connection);
  response.once('finish', () => {
    response.detachSocket(connection);
    connection.destroySoon();
  });
  server.emit('request', request, response);
}

/** How the upgrade door judges a request path (without its query): refused outright, or which route owns it. */
export interface UpgradePaths {
  /**
   * The error a request target (`pathname` its path) is refused with before any route is looked up (the one
   * plain requests get), if any.
   */
  refuse(target: string, pathname: string): GatewayException | undefined;
  find(pathname: string): RawRoute | undefined;
}

/**
 * WebSocket upgrades go to the raw route that owns the path (a route with an `upgrade` handler); one on a
 * refused path gets the refusal, one on a path no route relays is answered 404; both are closed after. Each
 * upgrade is tracked like a request, for the whole session.
 */
export function installUpgradeDoor(server: Server, paths: UpgradePaths, tracker: RequestTracker, logger: Logger): void {
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isWebSocketUpgrade(request)) {
      serveAsPlainRequest(server, request, socket);
      return;
    }
    socket.on('error', () => socket.destroy());
    const target = request.url ?? '/';
    const pathname = pathnameOf(target);
    const refusal = paths.refuse(target, pathname);
    const route = refusal === undefined ? paths.find(pathname) : undefined;
    const exchange = tracker.beginUpgrade(request, socket, () => route?.label ?? 'unmatched');
    if (refusal !== undefined || route?.upgrade === undefined) {
      const error = refusal ?? new GatewayException(ErrorCode.NotFound, 'Unknown route');
      exchange.statusCode = sendUpgradeError(socket, error, logger);
      return;
    }
    route.upgrade(request, socket, head).then(
      (status) => {
        exchange.statusCode = status;
      },
      (error: unknown) => {
        exchange.statusCode = sendUpgradeError(socket, error, logger);
      },
    );
  });
}
