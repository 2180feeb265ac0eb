import fc from 'fast-check';
import { isIP } from 'node:net';
import {
  Socks5Handshake,
  connectReplyLength,
  encodeConnect,
  encodeGreeting,
  encodeLogin,
  ipv6Bytes,
} from './socks5-handshake';
import { EgressProxyRefusedError, type HandshakeStep } from './tunnel-handshake';

/** A host name of 1 to 255 ASCII bytes that is not an IP literal (those go as addresses). */
const hostName = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-'), minLength: 1, maxLength: 255 })
  .filter((host) => isIP(host) === 0);
const port = fc.integer({ min: 0, max: 65_535 });
const credentials = fc.record({
  username: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 }),
  password: fc.string({ unit: 'grapheme-ascii', maxLength: 255 }),
});

/** A CONNECT reply with any bound address type (IPv4, IPv6, a name of any length) and port. */
const boundAddress = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => Buffer.from([0x01, ...bytes])),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from([0x04, ...bytes])),
  fc.uint8Array({ maxLength: 255 }).map((bytes) => Buffer.from([0x03, bytes.length, ...bytes])),
);

function successReply(address: Buffer, boundPort: number): Buffer {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(boundPort);
  return Buffer.concat([Buffer.from([0x05, 0x00, 0x00]), address, portBytes]);
}

/** `bytes` cut at the given offsets (any order, repeats allowed): what TCP may deliver. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

/** Feeds chunks until the tunnel opens; the open step's `rest` then also gets the chunks after it (the socket's). */
function feed(handshake: Socks5Handshake, chunks: Buffer[]): HandshakeStep[] {
  const steps: HandshakeStep[] = [];
  for (const [index, chunk] of chunks.entries()) {
    steps.push(...handshake.receive(Buffer.from(chunk)));
    const last = steps.at(-1);
    if (last?.kind === 'open') {
      steps[steps.length - 1] = { kind: 'open', rest: Buffer.concat([last.rest, ...chunks.slice(index + 1)]) };
      break;
    }
  }
  return steps;
}

describe(Socks5Handshake.name, () => {
  it('should send a host name as a domain address of its own length when the target is a name', () => {
    fc.assert(
      fc.property(hostName, port, (host, targetPort) => {
        const request = encodeConnect({ host, port: targetPort });
        expect([...request.subarray(0, 5)]).toEqual([0x05, 0x01, 0x00, 0x03, host.length]);
        expect(request.subarray(5, 5 + host.length).toString('latin1')).toBe(host);
        expect(request.readUInt16BE(5 + host.length)).toBe(targetPort);
        expect(request.length).toBe(7 + host.length);
      }),
    );
  });

  it('should refuse a host name over 255 bytes when encoding the request', () => {
    expect(() => encodeConnect({ host: 'a'.repeat(256), port: 443 })).toThrow(EgressProxyRefusedError);
  });

  it('should send IP literals as IPv4 and IPv6 addresses when the target is one', () => {
    fc.assert(
      fc.property(fc.ipV4(), port, (host, targetPort) => {
        const request = encodeConnect({ host, port: targetPort });
        expect([...request.subarray(3, 8)]).toEqual([0x01, ...host.split('.').map(Number)]);
        expect(request.readUInt16BE(8)).toBe(targetPort);
      }),
    );
    expect([...encodeConnect({ host: '::1', port: 80 }).subarray(3, 20)]).toEqual([0x04, ...Array(15).fill(0), 1]);
  });

  it('should read any IPv6 literal as the 16 bytes it names', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const bytes = ipv6Bytes(address);
        const groups = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2).toString(16));
        expect(new URL(`http://[${groups.join(':')}]`).hostname).toBe(new URL(`http://[${address}]`).hostname);
      }),
    );
  });

  it('should encode the greeting and the RFC 1929 login with their lengths', () => {
    expect([...encodeGreeting(false)]).toEqual([0x05, 0x01, 0x00]);
    expect([...encodeGreeting(true)]).toEqual([0x05, 0x02, 0x00, 0x02]);
    fc.assert(
      fc.property(credentials, ({ username, password }) => {
        const login = encodeLogin({ username, password });
        expect(login[0]).toBe(0x01);
        expect(login[1]).toBe(username.length);
        expect(login.subarray(2, 2 + username.length).toString('latin1')).toBe(username);
        expect(login[2 + username.length]).toBe(password.length);
        expect(login.subarray(3 + username.length).toString('latin1')).toBe(password);
      }),
    );
  });

  it('should open the tunnel with what followed the reply when the replies arrive split anywhere', () => {
    fc.assert(
      fc.property(
        hostName,
        port,
        fc.option(credentials, { nil: undefined }),
        boundAddress,
        port,
        fc.uint8Array({ maxLength: 32 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (host, targetPort, login, address, boundPort, early, cuts) => {
          const handshake = new Socks5Handshake({ host, port: targetPort }, login);
          handshake.start();
          const answers = Buffer.concat([
            Buffer.from(login === undefined ? [0x05, 0x00] : [0x05, 0x02, 0x01, 0x00]),
            successReply(address, boundPort),
            Buffer.from(early),
          ]);
          const steps = feed(handshake, split(answers, cuts));
          const expected = [
            ...(login === undefined ? [] : [encodeLogin(login)]),
            encodeConnect({ host, port: targetPort }),
          ];
          expect(steps.filter((step) => step.kind === 'write').map((step) => [...step.bytes])).toEqual(
            expected.map((bytes) => [...bytes]),
          );
          const opened = steps.at(-1);
          expect(opened?.kind).toBe('open');
          expect(opened?.kind === 'open' ? [...opened.rest] : undefined).toEqual([...early]);
        },
      ),
    );
  });

  it('should throw a refusal naming the reply when the proxy answers CONNECT with any failure code', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 255 }), fc.array(fc.nat(), { maxLength: 10 }), (reply, cuts) => {
        const handshake = new Socks5Handshake({ host: 'api.openai.com', port: 443 }, undefined);
        const answers = Buffer.from([0x05, 0x00, 0x05, reply, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
        expect(() => feed(handshake, split(answers, cuts))).toThrow(EgressProxyRefusedError);
      }),
    );
  });

  it('should throw a refusal when the proxy needs a login and the URL has none', () => {
    const handshake = new Socks5Handshake({ host: 'api.openai.com', port: 443 }, undefined);
    expect(() => handshake.receive(Buffer.from([0x05, 0xff]))).toThrow(/authentication methods/);
  });

  it('should throw a refusal when the proxy rejects the login', () => {
    const handshake = new Socks5Handshake({ host: 'api.openai.com', port: 443 }, { username: 'u', password: 'p' });
    expect(handshake.receive(Buffer.from([0x05, 0x02]))).toHaveLength(1);
    expect(() => handshake.receive(Buffer.from([0x01, 0x01]))).toThrow(/user name or password/);
  });

  it('should wait for the whole reply when its address is not complete yet', () => {
    expect(connectReplyLength(Buffer.from([0x05, 0x00, 0x00, 0x03]))).toBeUndefined();
    expect(connectReplyLength(Buffer.from([0x05, 0x00, 0x00, 0x03, 2, 0x61]))).toBeUndefined();
    expect(connectReplyLength(Buffer.from([0x05, 0x00, 0x00, 0x03, 2, 0x61, 0x62, 0, 80]))).toBe(9);
  });
});
