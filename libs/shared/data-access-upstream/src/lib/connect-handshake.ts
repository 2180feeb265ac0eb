import { isIPv6 } from 'node:net';
import { EgressProxyRefusedError, type HandshakeStep, ProxyHandshake, type TunnelTarget } from './tunnel-handshake';

/** A CONNECT answer's head is a status line and a few headers; a longer one is not a proxy we can use. */
const MAX_ANSWER_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** `host:port` as CONNECT and `Host` write it (an IPv6 literal in brackets). */
export function authority(target: TunnelTarget): string {
  return `${isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
}

/** The client side of an HTTP CONNECT tunnel (RFC 9110 §9.3.6), with Basic proxy authentication if given. */
export class ConnectHandshake extends ProxyHandshake {
  private buffer: Buffer = Buffer.alloc(0);

  start(): Buffer {
    const where = authority(this.target);
    const lines = [`CONNECT ${where} HTTP/1.1`, `Host: ${where}`];
    if (this.credentials !== undefined) {
      const token = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64');
      lines.push(`Proxy-Authorization: Basic ${token}`);
    }
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  }

  receive(chunk: Buffer): HandshakeStep[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0) {
      if (this.buffer.length > MAX_ANSWER_HEAD_BYTES) {
        throw new EgressProxyRefusedError('The egress proxy answered CONNECT with an over-long head');
      }
      return [];
    }
    const statusLine = this.buffer.subarray(0, this.buffer.indexOf('\r\n')).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)?.[1];
    if (status === undefined) {
      throw new EgressProxyRefusedError('The egress proxy did not answer CONNECT with HTTP');
    }
    if (!status.startsWith('2')) {
      const hint = status === '407' ? ' (it needs a user and password, or refused the ones given)' : '';
      throw new EgressProxyRefusedError(`The egress proxy refused the tunnel with ${status}${hint}`);
    }
    return [{ kind: 'open', rest: this.buffer.subarray(end + HEAD_END.length) }];
  }
}
