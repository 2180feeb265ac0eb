/** Where a tunnel leads: the upstream's host name (or IP literal, without brackets) and port. */
export interface TunnelTarget {
  host: string;
  port: number;
}

/** The user and password of an egress proxy URL (`scheme://user:password@host:port`), decoded. */
export interface ProxyCredentials {
  username: string;
  password: string;
}

/** What a handshake does after reading the proxy's bytes: send these, or the tunnel is open. */
export type HandshakeStep =
  | { kind: 'write'; bytes: Buffer }
  /** `rest`: what the proxy sent after its answer, the upstream's first bytes. */
  | { kind: 'open'; rest: Buffer };

/**
 * One tunnel handshake with an egress proxy as a pure state machine (no I/O): `start` gives the first bytes
 * to send; `receive` takes whatever arrived (split wherever TCP split it) and returns the steps it allows, in
 * order (none: read more; `open` comes last); a refusal throws.
 */
export interface TunnelHandshake {
  start(): Buffer;
  receive(chunk: Buffer): HandshakeStep[];
}

/** A handshake opening a tunnel to `target` through a proxy, logging in with `credentials` when the URL has them. */
export abstract class ProxyHandshake implements TunnelHandshake {
  constructor(
    protected readonly target: TunnelTarget,
    protected readonly credentials: ProxyCredentials | undefined,
  ) {}

  abstract start(): Buffer;
  abstract receive(chunk: Buffer): HandshakeStep[];
}

/**
 * The egress proxy would not open the tunnel (a SOCKS5 failure reply, a CONNECT answer other than 2xx, a
 * rejected login, an answer that is not the protocol's). The message says which, without the proxy's
 * address or credentials; clients get a 502 naming the upstream (the `code` is in the error table).
 */
export class EgressProxyRefusedError extends Error {
  readonly code = 'ERR_EGRESS_PROXY_REFUSED';

  constructor(message: string) {
    super(message);
    this.name = 'EgressProxyRefusedError';
  }
}
