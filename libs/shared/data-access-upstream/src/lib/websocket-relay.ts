import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ClientOptions, type ServerOptions, type WebSocket, WebSocketServer } from 'ws';
import {
  ClientAddressService,
  MetricsService,
  PLATFORM_SETTINGS,
  ShutdownService,
  answerUpgrade,
} from '@openai-proxy/feature-platform';
import { type OutgoingHeaders, buildForwardedResponseHeaders } from '@openai-proxy/util-auth-headers';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException, classifyUpstreamError } from '@openai-proxy/util-errors';
import { scrubbedErrorBytes } from './error-scrub';
import { forwardedRequestHeaders } from './forwarded-request';
import { joinPath } from './relay.service';
import type { RelayTarget } from './relay.types';
import { WebSocketBridge } from './websocket-bridge';
import { UpstreamExchange, shuttingDown } from './upstream-exchange';
import { type UpstreamHandshake, openUpstreamWebSocket } from './websocket-handshake';

const SWITCHING_PROTOCOLS = 101;

/**
 * Told once how the upstream answered an upgrade: 101 when it opened, its status when it refused, 0 when there
 * was no answer (the client left first, or the attempt failed). An error it returns for a refusal is answered in
 * the refusal's place (thrown, as the relay's own failures are).
 */
export type UpgradeAnswered = (status: number) => GatewayException | undefined;

/** What the caller of an upgrade relay wants to know of it, and to keep from the client. */
export interface UpgradeHooks {
  answered?: UpgradeAnswered;
  /** Credentials the gateway itself put into the upgrade: a refusal's body is sent without them (scrubbedErrorBytes). */
  heldSecrets?: readonly string[];
}

const NO_HOOKS: UpgradeHooks = {};

/**
 * A refusal's body without the held credentials, decoded; its encoding header is dropped from `headers` to match.
 * Synchronous: nothing may come between the release of the client and its answer.
 */
function withoutSecrets(
  refusal: { headers: IncomingHttpHeaders; body: Buffer },
  headers: OutgoingHeaders,
  secrets: readonly string[],
): Buffer {
  const body = scrubbedErrorBytes(refusal.body, refusal.headers['content-encoding'], secrets);
  delete headers['content-encoding'];
  return body;
}

/** How long either side may take to finish a close handshake before ws cuts it (its default is 30 s). */
const CLOSE_TIMEOUT_MS = 2_000;
const GOING_AWAY = 1001;
/** What a client may send before its upgrade is answered (it should send nothing); past it, it is cut. */
const EARLY_DATA_LIMIT_BYTES = 1024 * 1024;
/** What ws itself accepts as a client's key (16 bytes, base64). */
const WEBSOCKET_KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
/** The handshake headers ws writes for each side itself; neither side's are passed on to the other. */
const HANDSHAKE_HEADER_PREFIXES: readonly string[] = ['sec-websocket-'];

/** What the client's 101 gets from the upstream's: its chosen subprotocol and its end-to-end headers. */
interface AcceptedHandshake {
  protocol: string;
  headers: OutgoingHeaders;
}

/** `closeTimeout` is an option of ws 8.23 that its type definitions do not list yet. */
type WithCloseTimeout<T> = T & { closeTimeout: number };

/** The request headers for the ws client, which takes one value per name (Node joined repeats already). */
function singleValued(headers: OutgoingHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

/** The subprotocols the client offered, in its order (`Sec-WebSocket-Protocol: a, b`). */
function offeredProtocols(headers: IncomingHttpHeaders): string[] {
  const value = headers['sec-websocket-protocol'] ?? '';
  return value
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol.length > 0);
}

/**
 * While the upstream is answering, reads what the client sends (kept for its WebSocket, up to a limit), so
 * that a client that leaves is seen at once and the upstream attempt abandoned. Returns the release, which
 * hands back what was read.
 */
function holdClient(socket: Duplex): () => Buffer {
  const chunks: Buffer[] = [];
  let length = 0;
  const onData = (chunk: Buffer): void => {
    length += chunk.length;
    if (length > EARLY_DATA_LIMIT_BYTES) {
      socket.destroy();
    } else {
      chunks.push(chunk);
    }
  };
  const onEnd = (): void => {
    socket.destroy();
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
  return () => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    return Buffer.concat(chunks);
  };
}

/** Refuses a handshake ws would refuse, before any upstream is contacted. */
function checkClientHandshake(request: IncomingMessage): void {
  if (request.method !== 'GET') {
    throw new GatewayException(ErrorCode.MethodNotAllowed, 'A WebSocket upgrade must be a GET');
  }
  const key = request.headers['sec-websocket-key'];
  const version = request.headers['sec-websocket-version'];
  if (key === undefined || !WEBSOCKET_KEY_PATTERN.test(key) || (version !== '13' && version !== '8')) {
    throw new GatewayException(ErrorCode.InvalidRequest, 'Invalid WebSocket handshake');
  }
}

/**
 * Relays a WebSocket upgrade on a relay path: the upstream handshake first (so a refusal reaches the client
 * with its own status, headers and body), then the client's, then frames both ways as they come. The request
 * headers are filtered as for HTTP; closes keep their code and reason; either side leaving closes the other;
 * at the drain cap and when the app closes, open WebSockets are closed with 1001.
 */
@Injectable()
export class WebSocketRelay implements OnModuleDestroy {
  private readonly accepted = new WeakMap<IncomingMessage, AcceptedHandshake>();
  private readonly bridges = new Set<WebSocketBridge>();
  private readonly serverOptions: WithCloseTimeout<ServerOptions> = {
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    autoPong: false,
    closeTimeout: CLOSE_TIMEOUT_MS,
    handleProtocols: (_offered, request) => this.accepted.get(request)?.protocol || false,
  };
  private readonly server = new WebSocketServer(this.serverOptions);

  constructor(
    @Inject(PLATFORM_SETTINGS) private readonly settings: PlatformSettings,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownService,
    private readonly addresses: ClientAddressService,
  ) {
    this.server.on('headers', (lines: string[], request: IncomingMessage) => {
      const headers = this.accepted.get(request)?.headers ?? {};
      for (const [name, value] of Object.entries(headers)) {
        lines.push(...(Array.isArray(value) ? value : [value]).map((one) => `${name}: ${one}`));
      }
    });
  }

  async onModuleDestroy(): Promise<void> {
    const open = [...this.bridges];
    open.forEach((bridge) => bridge.close(GOING_AWAY, 'Server is shutting down'));
    await Promise.all(open.map((bridge) => bridge.closed));
  }

  /**
   * Relays one upgrade to `target` + `path`; resolves with the status the client got (0: it left first).
   * `hooks.answered` is told how the upstream answered (UpgradeAnswered), exactly once.
   */
  async relay(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: RelayTarget,
    path: string,
    hooks: UpgradeHooks = NO_HOOKS,
  ): Promise<number> {
    let told = false;
    const tell = (status: number): GatewayException | undefined => {
      if (told) {
        return undefined;
      }
      told = true;
      return hooks.answered?.(status);
    };
    try {
      return await this.relayTold(request, socket, head, target, path, tell, hooks.heldSecrets ?? []);
    } catch (error) {
      tell(0);
      throw error;
    }
  }

  private async relayTold(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: RelayTarget,
    path: string,
    tell: UpgradeAnswered,
    heldSecrets: readonly string[],
  ): Promise<number> {
    if (this.shutdown.isDraining) {
      throw shuttingDown();
    }
    checkClientHandshake(request);
    const releaseClient = holdClient(socket);
    let handshake: UpstreamHandshake;
    try {
      handshake = await this.openUpstream(request, socket, target, path);
    } catch (error) {
      // A failed attempt lets the client go too: the hold must not go on buffering what it sends.
      releaseClient();
      throw error;
    }
    // No await from here to the client's handshake: not a byte can be emitted while nobody listens.
    const sentEarly = releaseClient();
    switch (handshake.kind) {
      case 'gone':
        tell(0);
        return 0;
      case 'refused': {
        const instead = tell(handshake.status);
        if (instead !== undefined) {
          throw instead;
        }
        const headers = this.responseHeaders(handshake.headers, target);
        const body = heldSecrets.length === 0 ? handshake.body : withoutSecrets(handshake, headers, heldSecrets);
        answerUpgrade(socket, handshake.status, headers, body);
        return handshake.status;
      }
      case 'open':
        tell(SWITCHING_PROTOCOLS);
        return this.accept(
          request,
          socket,
          Buffer.concat([head, sentEarly]),
          handshake.upstream,
          this.responseHeaders(handshake.headers, target),
        );
    }
  }

  private async openUpstream(
    request: IncomingMessage,
    socket: Duplex,
    target: RelayTarget,
    path: string,
  ): Promise<UpstreamHandshake> {
    const url = `${target.origin.replace(/^http/, 'ws')}${joinPath(target.basePath, path)}`;
    const headers = forwardedRequestHeaders(request, target, this.addresses, { prefixes: HANDSHAKE_HEADER_PREFIXES });
    const agent = target.webSocketAgent;
    const options: WithCloseTimeout<ClientOptions> = {
      headers: singleValued(headers),
      perMessageDeflate: false,
      autoPong: false,
      followRedirects: false,
      closeTimeout: CLOSE_TIMEOUT_MS,
      ...(agent === undefined ? {} : { agent }),
    };
    try {
      return await openUpstreamWebSocket(url, offeredProtocols(request.headers), options, {
        client: socket,
        timeoutMs: this.settings.upstream.headersTimeoutMs,
        upstreamName: target.name,
      });
    } catch (error) {
      const exception = classifyUpstreamError(error, target.name);
      if (exception.code !== ErrorCode.InvalidRequest) {
        this.metrics.upstreamErrors.inc({ upstream: target.name, kind: exception.code });
      }
      throw exception;
    }
  }

  private responseHeaders(upstream: IncomingHttpHeaders, target: RelayTarget): OutgoingHeaders {
    return buildForwardedResponseHeaders(upstream, {
      dropPrefixes: [...target.dropResponseHeaderPrefixes, ...HANDSHAKE_HEADER_PREFIXES],
    });
  }

  /** Completes the client's handshake with the upstream's outcome and joins the two; 0 if the client left. */
  private accept(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    upstream: WebSocket,
    headers: OutgoingHeaders,
  ): number {
    this.accepted.set(request, { protocol: upstream.protocol, headers });
    let client: WebSocket | undefined;
    // Synchronous when the handshake is valid and the client is still there; otherwise ws has answered it.
    this.server.handleUpgrade(request, socket, head, (accepted) => {
      client = accepted;
    });
    this.accepted.delete(request);
    if (client === undefined) {
      upstream.terminate();
      return 0;
    }
    const bridge = new WebSocketBridge(client, upstream);
    upstream.resume();
    this.bridges.add(bridge);
    const exchange = new UpstreamExchange();
    exchange.onTerminate(() => bridge.close(GOING_AWAY, 'Server is shutting down'));
    const unregister = this.shutdown.registerStream(exchange);
    void bridge.closed.then(() => {
      unregister();
      this.bridges.delete(bridge);
    });
    return SWITCHING_PROTOCOLS;
  }
}
