import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { type Socket, connect as connectTcp, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, type TLSSocket, connect as connectTls } from 'node:tls';
import { type buildConnector, errors } from 'undici';
import { ConnectHandshake } from './connect-handshake';
import { Socks5Handshake } from './socks5-handshake';
import {
  EgressProxyRefusedError,
  type ProxyCredentials,
  type TunnelHandshake,
  type TunnelTarget,
} from './tunnel-handshake';

/** TCP keep-alive probes on proxy sockets, as undici sets on its own. */
const TCP_KEEP_ALIVE_DELAY_MS = 60_000;

export type EgressProxyProtocol = 'http:' | 'https:' | 'socks5:' | 'socks5h:';

/** A parsed egress proxy URL. The URL itself (it may hold a password) is not kept. */
export interface EgressProxy {
  protocol: EgressProxyProtocol;
  host: string;
  port: number;
  credentials: ProxyCredentials | undefined;
}

/** How one tunnel is opened: the budget for all of it (proxy connect, handshake, TLS), and TLS for the upstream. */
export interface TunnelOptions {
  timeoutMs: number;
  /** TLS to the upstream through the tunnel, its certificate checked against the target host. */
  secure: boolean;
  /** The SNI: a host name, never an IP (none then). */
  servername?: string;
  /** Extra options for both TLS layers, the proxy's and the upstream's (tests: a certificate authority). */
  tls?: ConnectionOptions;
}

const DEFAULT_PORTS: Readonly<Record<EgressProxyProtocol, number>> = {
  'http:': 80,
  'https:': 443,
  'socks5:': 1080,
  'socks5h:': 1080,
};

function isEgressProtocol(protocol: string): protocol is EgressProxyProtocol {
  return protocol in DEFAULT_PORTS;
}

/** Parses `HTTPS_PROXY` / `ALL_PROXY`; the start has validated the scheme already, so a throw here is a bug. */
export function parseEgressProxy(value: string): EgressProxy {
  const url = new URL(value);
  if (!isEgressProtocol(url.protocol)) {
    throw new Error(`Unsupported egress proxy scheme ${url.protocol} (use http, https, socks5 or socks5h)`);
  }
  const username = decodeURIComponent(url.username);
  return {
    protocol: url.protocol,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port),
    credentials: username === '' ? undefined : { username, password: decodeURIComponent(url.password) },
  };
}

function handshakeFor(proxy: EgressProxy, target: TunnelTarget): TunnelHandshake {
  return proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:'
    ? new Socks5Handshake(target, proxy.credentials)
    : new ConnectHandshake(target, proxy.credentials);
}

/** The TCP (or, for an `https://` proxy, TLS) connection to the proxy itself; `ready` names its connect event. */
function connectToProxy(
  proxy: EgressProxy,
  tls: ConnectionOptions | undefined,
): { socket: Socket | TLSSocket; ready: 'connect' | 'secureConnect' } {
  if (proxy.protocol === 'https:') {
    const servername = serverName(proxy.host);
    const socket = connectTls({ ...tls, host: proxy.host, port: proxy.port, servername, ALPNProtocols: ['http/1.1'] });
    return { socket, ready: 'secureConnect' };
  }
  return { socket: connectTcp({ host: proxy.host, port: proxy.port }), ready: 'connect' };
}

/** Runs the handshake on the proxy's socket; resolves once the tunnel is open, the socket left unread after it. */
function runHandshake(socket: Socket, ready: string, handshake: TunnelHandshake): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReadable = (): void => {
      let chunk: Buffer | null;
      try {
        while ((chunk = socket.read() as Buffer | null) !== null) {
          for (const step of handshake.receive(chunk)) {
            if (step.kind === 'write') {
              socket.write(step.bytes);
              continue;
            }
            finish();
            if (step.rest.length > 0) {
              socket.unshift(step.rest);
            }
            resolve();
            return;
          }
        }
      } catch (error) {
        finish();
        reject(asError(error));
      }
    };
    const onReady = (): void => {
      socket.write(handshake.start());
    };
    const onClose = (): void => {
      finish();
      reject(new EgressProxyRefusedError('The egress proxy closed the connection during the handshake'));
    };
    const onError = (error: Error): void => {
      finish();
      reject(error);
    };
    const finish = (): void => {
      socket.off(ready, onReady).off('readable', onReadable).off('close', onClose).off('error', onError);
    };
    socket.once(ready, onReady).on('readable', onReadable).once('close', onClose).once('error', onError);
  });
}

/**
 * TLS to the upstream on top of the open tunnel: ALPN http/1.1, the name as SNI, and the certificate checked
 * against the target host (name or IP). `host` is what does the check when there is no name: without it, Node
 * checks the certificate against the socket's own host, the proxy's.
 */
function startUpstreamTls(tunnel: Socket, target: TunnelTarget, options: TunnelOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secured = connectTls({
      ...options.tls,
      socket: tunnel,
      host: target.host,
      servername: options.servername,
      ALPNProtocols: ['http/1.1'],
    });
    const onError = (error: Error): void => {
      secured.off('secureConnect', onSecure);
      reject(error);
    };
    const onSecure = (): void => {
      secured.off('error', onError);
      resolve(secured);
    };
    secured.once('secureConnect', onSecure).once('error', onError);
  });
}

/** The tunnel, then TLS on it when asked; every socket it opens is put in `opened` (to destroy on failure). */
async function establish(
  proxy: EgressProxy,
  target: TunnelTarget,
  options: TunnelOptions,
  opened: Socket[],
): Promise<Socket> {
  const { socket, ready } = connectToProxy(proxy, options.tls);
  opened.push(socket);
  socket.setKeepAlive(true, TCP_KEEP_ALIVE_DELAY_MS);
  await runHandshake(socket, ready, handshakeFor(proxy, target));
  if (!options.secure) {
    return socket;
  }
  if (socket.readableLength > 0) {
    throw new EgressProxyRefusedError('The egress proxy sent bytes of its own before the upstream TLS handshake');
  }
  const secured = startUpstreamTls(socket, target, options);
  opened.push(await secured);
  return secured;
}

/**
 * Opens a socket to `target` through the egress proxy: the connection to the proxy, its handshake (HTTP
 * CONNECT or SOCKS5), then TLS to the upstream when `secure`. `timeoutMs` (0: none) bounds all of it, as a
 * connect timeout (`UND_ERR_CONNECT_TIMEOUT`); on any failure every socket opened is destroyed.
 */
export async function openTunnel(proxy: EgressProxy, target: TunnelTarget, options: TunnelOptions): Promise<Socket> {
  const opened: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  const attempt = establish(proxy, target, options, opened);
  const attempts = [attempt];
  if (options.timeoutMs > 0) {
    attempts.push(
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new errors.ConnectTimeoutError('Tunnel through the egress proxy timed out'));
        }, options.timeoutMs);
      }),
    );
  }
  try {
    return await Promise.race(attempts);
  } catch (error) {
    opened.forEach((socket) => socket.destroy());
    // Past the deadline, a tunnel that still opens is closed at once.
    attempt.then(
      (socket) => socket.destroy(),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The TLS server name for a host: the name itself, none for an IP literal. */
function serverName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * undici's `connect` for an Agent whose every connection goes through the egress proxy: the same pools,
 * keep-alive and timeouts as direct connections, the tunnel (and TLS on it for https) instead of a dial.
 */
export function egressConnector(
  proxy: EgressProxy,
  timeoutMs: number,
  tls?: ConnectionOptions,
): buildConnector.connector {
  return (options, callback) => {
    const secure = options.protocol === 'https:';
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const port = options.port === '' ? (secure ? 443 : 80) : Number(options.port);
    const servername = options.servername || serverName(host);
    openTunnel(proxy, { host, port }, { timeoutMs, secure, servername, tls }).then(
      (socket) => callback(null, socket),
      (error: unknown) => callback(asError(error), null),
    );
  };
}

/**
 * A node:http Agent (what `ws` takes) whose connections go through the egress proxy, for ws:// (`secure`
 * false) or wss:// upstreams. No keep-alive: an upgraded socket leaves the agent anyway.
 */
export class EgressAgent extends HttpAgent {
  /** Node checks it against the request's scheme (https.request refuses an `http:` agent). */
  readonly protocol: string;

  constructor(
    private readonly proxy: EgressProxy,
    private readonly secure: boolean,
    private readonly timeoutMs: number,
    private readonly tls?: ConnectionOptions,
  ) {
    super({ keepAlive: false });
    this.protocol = secure ? 'https:' : 'http:';
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): undefined {
    // Node reads no stream when there is an error: the callback is called without one then.
    const done = callback as ((error: Error | null, stream?: Duplex) => void) | undefined;
    const host = (options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? 0) || (this.secure ? 443 : 80);
    const tunnel = { timeoutMs: this.timeoutMs, secure: this.secure, servername: serverName(host), tls: this.tls };
    openTunnel(this.proxy, { host, port }, tunnel).then(
      (socket) => done?.(null, socket),
      (error: unknown) => done?.(asError(error)),
    );
    return undefined;
  }
}
