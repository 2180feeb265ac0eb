import fc from 'fast-check';
import { ConnectHandshake } from './connect-handshake';
import { EgressProxyRefusedError, type HandshakeStep } from './tunnel-handshake';

const TARGET = { host: 'api.openai.com', port: 443 };

/** Feeds `bytes` cut at the offsets; the open step's `rest` also gets what came after it. */
function feedSplit(handshake: ConnectHandshake, bytes: Buffer, cuts: number[]): HandshakeStep | undefined {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1))), bytes.length].sort((a, b) => a - b);
  let start = 0;
  for (const offset of offsets) {
    const step = handshake.receive(bytes.subarray(start, offset)).at(-1);
    if (step?.kind === 'open') {
      return { kind: 'open', rest: Buffer.concat([step.rest, bytes.subarray(offset)]) };
    }
    start = offset;
  }
  return undefined;
}

describe(ConnectHandshake.name, () => {
  it('should ask for the target with Basic proxy credentials when the URL has them', () => {
    const request = new ConnectHandshake(TARGET, { username: 'clash', password: 'p@ss' }).start().toString();
    expect(request).toBe(
      'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n' +
        `Proxy-Authorization: Basic ${Buffer.from('clash:p@ss').toString('base64')}\r\n\r\n`,
    );
    expect(new ConnectHandshake({ host: '::1', port: 80 }, undefined).start().toString()).toMatch(
      /^CONNECT \[::1\]:80 HTTP\/1\.1\r\nHost: \[::1\]:80\r\n\r\n$/,
    );
  });

  it('should open the tunnel with the bytes after the head when the answer arrives split anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 30 }), (early, cuts) => {
        const answer = Buffer.concat([
          Buffer.from('HTTP/1.1 200 Connection Established\r\nProxy-Agent: fake\r\n\r\n'),
          Buffer.from(early),
        ]);
        const step = feedSplit(new ConnectHandshake(TARGET, undefined), answer, cuts);
        expect(step?.kind === 'open' ? [...step.rest] : undefined).toEqual([...early]);
      }),
    );
  });

  it('should throw a refusal with the status when the proxy answers other than 2xx', () => {
    const handshake = new ConnectHandshake(TARGET, undefined);
    expect(() => handshake.receive(Buffer.from('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'))).toThrow(
      /407 \(it needs a user and password/,
    );
    expect(() => new ConnectHandshake(TARGET, undefined).receive(Buffer.from('SSH-2.0-x\r\n\r\n'))).toThrow(
      EgressProxyRefusedError,
    );
  });

  it('should throw a refusal when the answer head never ends', () => {
    const handshake = new ConnectHandshake(TARGET, undefined);
    expect(handshake.receive(Buffer.from('HTTP/1.1 200 OK\r\n'))).toEqual([]);
    expect(() => handshake.receive(Buffer.alloc(17 * 1024, 0x61))).toThrow(/over-long head/);
  });
});
