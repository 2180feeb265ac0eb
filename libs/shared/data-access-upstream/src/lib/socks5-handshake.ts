import { isIPv4, isIPv6 } from 'node:net';
import {
  EgressProxyRefusedError,
  type HandshakeStep,
  type ProxyCredentials,
  ProxyHandshake,
  type TunnelTarget,
} from './tunnel-handshake';

/** RFC 1928 and RFC 1929 constants. */
const VERSION = 0x05;
const AUTH_VERSION = 0x01;
const NO_AUTH = 0x00;
const USER_PASSWORD = 0x02;
const NO_ACCEPTABLE_METHOD = 0xff;
const CONNECT = 0x01;
const IPV4 = 0x01;
const DOMAIN = 0x03;
const IPV6 = 0x04;
const MAX_FIELD_BYTES = 255;

/** RFC 1928's reply codes, for the refusal's message. */
const REPLY_MEANINGS: Readonly<Record<number, string>> = {
  1: 'general failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** The 16 bytes of an IPv6 literal (`::1`, `2001:db8::8a2e:370:7334`, `::ffff:192.0.2.1`). */
export function ipv6Bytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  const hex = dotted === undefined ? address : address.slice(0, -dotted.length) + '0:0';
  const [head = '', tail] = hex.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  if (dotted !== undefined) {
    Buffer.from(dotted.split('.').map(Number)).copy(bytes, 12);
  }
  return bytes;
}

/** The greeting: the methods we offer (user/password only when we have credentials). */
export function encodeGreeting(withCredentials: boolean): Buffer {
  return Buffer.from(withCredentials ? [VERSION, 2, NO_AUTH, USER_PASSWORD] : [VERSION, 1, NO_AUTH]);
}

/** A field as its length byte then its bytes; `minimum` is 0 or 1 byte. */
function lengthPrefixed(value: string, what: string, minimum: number): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < minimum || bytes.length > MAX_FIELD_BYTES) {
    throw new EgressProxyRefusedError(`The SOCKS5 ${what} must be ${minimum} to ${MAX_FIELD_BYTES} bytes long`);
  }
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** The RFC 1929 login: version, user, password, each length-prefixed. */
export function encodeLogin(credentials: ProxyCredentials): Buffer {
  return Buffer.concat([
    Buffer.from([AUTH_VERSION]),
    lengthPrefixed(credentials.username, 'user name', 1),
    lengthPrefixed(credentials.password, 'password', 0),
  ]);
}

/**
 * The CONNECT request. IP literals go as addresses; a host name goes as a name (address type 3), so that the
 * proxy resolves it: for `socks5://` as for `socks5h://` (curl's `socks5h` behaviour), because the local
 * resolver is often the very thing the proxy is there to get around.
 */
export function encodeConnect(target: TunnelTarget): Buffer {
  let address: Buffer;
  if (isIPv4(target.host)) {
    address = Buffer.from([IPV4, ...target.host.split('.').map(Number)]);
  } else if (isIPv6(target.host)) {
    address = Buffer.concat([Buffer.from([IPV6]), ipv6Bytes(target.host)]);
  } else {
    address = Buffer.concat([Buffer.from([DOMAIN]), lengthPrefixed(target.host, 'host name', 1)]);
  }
  const port = Buffer.alloc(2);
  port.writeUInt16BE(target.port);
  return Buffer.concat([Buffer.from([VERSION, CONNECT, 0x00]), address, port]);
}

/** The length of a complete CONNECT reply in `buffer`, or undefined while more bytes are needed. */
export function connectReplyLength(buffer: Buffer): number | undefined {
  if (buffer.length < 5) {
    return undefined;
  }
  const addressType = buffer[3];
  const addressLength =
    addressType === IPV4 ? 4 : addressType === IPV6 ? 16 : addressType === DOMAIN ? 1 + (buffer[4] ?? 0) : -1;
  if (addressLength < 0) {
    throw new EgressProxyRefusedError(`The SOCKS5 proxy answered with an unknown address type ${addressType}`);
  }
  const length = 4 + addressLength + 2;
  return buffer.length >= length ? length : undefined;
}

type Phase = 'method' | 'login' | 'connect' | 'open';

/** The client side of a SOCKS5 CONNECT (RFC 1928), with the RFC 1929 login when the URL has credentials. */
export class Socks5Handshake extends ProxyHandshake {
  private phase: Phase = 'method';
  private buffer: Buffer = Buffer.alloc(0);

  start(): Buffer {
    return encodeGreeting(this.credentials !== undefined);
  }

  receive(chunk: Buffer): HandshakeStep[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const steps: HandshakeStep[] = [];
    for (let step = this.next(); step !== undefined; step = this.next()) {
      steps.push(step);
    }
    return steps;
  }

  /** The step the buffered bytes allow in the current phase; undefined while more are needed. */
  private next(): HandshakeStep | undefined {
    switch (this.phase) {
      case 'method':
        return this.buffer.length < 2 ? undefined : this.chooseMethod(this.take(2));
      case 'login':
        return this.buffer.length < 2 ? undefined : this.loggedIn(this.take(2));
      case 'connect':
        return this.connected();
      case 'open':
        return undefined;
    }
  }

  private take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return taken;
  }

  private chooseMethod(reply: Buffer): HandshakeStep {
    if (reply[0] !== VERSION) {
      throw new EgressProxyRefusedError('The egress proxy does not speak SOCKS5');
    }
    if (reply[1] === NO_AUTH) {
      this.phase = 'connect';
      return { kind: 'write', bytes: encodeConnect(this.target) };
    }
    if (reply[1] === USER_PASSWORD && this.credentials !== undefined) {
      this.phase = 'login';
      return { kind: 'write', bytes: encodeLogin(this.credentials) };
    }
    throw new EgressProxyRefusedError(
      reply[1] === NO_ACCEPTABLE_METHOD
        ? 'The SOCKS5 proxy accepts none of our authentication methods (does it need a user and password?)'
        : `The SOCKS5 proxy chose an authentication method we did not offer (${reply[1]})`,
    );
  }

  private loggedIn(reply: Buffer): HandshakeStep {
    if (reply[1] !== 0x00) {
      throw new EgressProxyRefusedError('The SOCKS5 proxy rejected the user name or password');
    }
    this.phase = 'connect';
    return { kind: 'write', bytes: encodeConnect(this.target) };
  }

  private connected(): HandshakeStep | undefined {
    if (this.buffer.length >= 2 && this.buffer[0] !== VERSION) {
      throw new EgressProxyRefusedError('The egress proxy does not speak SOCKS5');
    }
    const reply = this.buffer[1];
    if (reply !== undefined && reply !== 0x00) {
      const meaning = REPLY_MEANINGS[reply] ?? 'unknown reply';
      throw new EgressProxyRefusedError(`The SOCKS5 proxy refused the tunnel: ${meaning} (${reply})`);
    }
    const length = connectReplyLength(this.buffer);
    if (length === undefined) {
      return undefined;
    }
    this.phase = 'open';
    this.take(length);
    return { kind: 'open', rest: this.buffer };
  }
}
