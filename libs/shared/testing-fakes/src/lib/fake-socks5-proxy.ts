import { type Server, type Socket, connect, createServer } from 'node:net';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';

/** One CONNECT request as the fake read it. */
export interface Socks5Connect {
  addressType: 'ipv4' | 'domain' | 'ipv6';
  host: string;
  port: number;
  /** The user name of an RFC 1929 login, undefined when the client chose no authentication. */
  username: string | undefined;
}

export interface FakeSocks5Options {
  /** Require this login (method 0x02); without it, only "no authentication" is accepted. */
  login?: { username: string; password: string };
  /** Answer every CONNECT with this reply code (e.g. 0x02, not allowed by ruleset) instead of tunnelling. */
  refuseWith?: number;
}

/** Reads exact byte counts from a socket while the handshake runs; `rest` is what came after. */
class HandshakeReader {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: (() => void) | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.once('close', () => this.pending?.());
  }

  async read(length: number): Promise<Buffer> {
    while (this.buffer.length < length) {
      if (this.socket.destroyed) {
        throw new Error('client left during the SOCKS5 handshake');
      }
      await new Promise<void>((resolve) => {
        this.pending = resolve;
      });
    }
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return taken;
  }

  /** Stops reading (the socket paused until piped); returns what arrived after the handshake. */
  release(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.pause();
    return this.buffer;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.pending?.();
  };
}

function formatIpv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push(bytes.readUInt16BE(index).toString(16));
  }
  return groups.join(':');
}

/** The address of a CONNECT request, read after its first four bytes. */
async function readAddress(
  reader: HandshakeReader,
  type: number,
): Promise<Pick<Socks5Connect, 'addressType' | 'host'>> {
  if (type === 0x01) {
    return { addressType: 'ipv4', host: [...(await reader.read(4))].join('.') };
  }
  if (type === 0x04) {
    return { addressType: 'ipv6', host: formatIpv6(await reader.read(16)) };
  }
  const [length = 0] = await reader.read(1);
  return { addressType: 'domain', host: (await reader.read(length)).toString('utf8') };
}

/**
 * A SOCKS5 proxy (RFC 1928, CONNECT only, with the RFC 1929 login when told to require one) on 127.0.0.1
 * that records each CONNECT request. It only tunnels to loopback, so a test can never reach the outside
 * through it; it can be told to refuse every tunnel.
 */
export class FakeSocks5Proxy {
  readonly connects: Socks5Connect[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(private readonly options: FakeSocks5Options) {
    this.server = createServer((client) => {
      this.track(client);
      this.serve(client).catch(() => client.destroy());
    });
  }

  static async start(options: FakeSocks5Options = {}): Promise<FakeSocks5Proxy> {
    const proxy = new FakeSocks5Proxy(options);
    await listenOnLoopback(proxy.server);
    return proxy;
  }

  get port(): number {
    return loopbackAddress(this.server).port;
  }

  /** `socks5://127.0.0.1:<port>`, or with another scheme and a user info (`user:password@`). */
  url(scheme: 'socks5' | 'socks5h' = 'socks5', userInfo = ''): string {
    return `${scheme}://${userInfo === '' ? '' : `${userInfo}@`}127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closeServer(this.server);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private async serve(client: Socket): Promise<void> {
    const reader = new HandshakeReader(client);
    const [, methodCount = 0] = await reader.read(2);
    const methods = [...(await reader.read(methodCount))];
    const username = await this.authenticate(client, reader, methods);
    if (username === null) {
      return;
    }
    const [, command, , type = 0] = await reader.read(4);
    const address = await readAddress(reader, type);
    const port = (await reader.read(2)).readUInt16BE(0);
    this.connects.push({ ...address, port, username });
    const loopback = address.host === '127.0.0.1' || address.host === 'localhost';
    const reply = this.options.refuseWith ?? (command !== 0x01 ? 0x07 : loopback ? 0x00 : 0x02);
    if (reply !== 0x00) {
      client.end(Buffer.from([0x05, reply, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
      return;
    }
    this.tunnel(client, port, reader.release());
  }

  /** The chosen method, and the login when required; the user name, undefined for none, null when refused. */
  private async authenticate(
    client: Socket,
    reader: HandshakeReader,
    methods: number[],
  ): Promise<string | undefined | null> {
    const login = this.options.login;
    const method = login === undefined ? 0x00 : 0x02;
    if (!methods.includes(method)) {
      client.end(Buffer.from([0x05, 0xff]));
      return null;
    }
    client.write(Buffer.from([0x05, method]));
    if (login === undefined) {
      return undefined;
    }
    const [, userLength = 0] = await reader.read(2);
    const username = (await reader.read(userLength)).toString('utf8');
    const [passwordLength = 0] = await reader.read(1);
    const password = (await reader.read(passwordLength)).toString('utf8');
    const accepted = username === login.username && password === login.password;
    client.write(Buffer.from([0x01, accepted ? 0x00 : 0x01]));
    if (!accepted) {
      client.end();
      return null;
    }
    return username;
  }

  private tunnel(client: Socket, port: number, early: Buffer): void {
    const upstream = connect(port, '127.0.0.1', () => {
      client.write(Buffer.from([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0]));
      upstream.write(early);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.track(upstream);
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
  }
}
