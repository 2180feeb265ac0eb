import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { PlatformSettings, TrustProxySetting } from '@openai-proxy/util-config';
import { PLATFORM_SETTINGS } from './platform.tokens';

type TrustFunction = (address: string, hop: number) => boolean;

/** `TRUST_PROXY` with Express' semantics: true, a hop count, or a list of addresses and subnets. */
function compileTrust(value: TrustProxySetting): TrustFunction {
  if (value === true) {
    return () => true;
  }
  if (value === false) {
    return () => false;
  }
  if (typeof value === 'number') {
    return (_address, hop) => hop < value;
  }
  return proxyaddr.compile(value.split(',').map((entry) => entry.trim()));
}

/** Who the client is, as far as the trusted proxies say; one implementation for every route. */
@Injectable()
export class ClientAddressService {
  private readonly trust: TrustFunction;

  constructor(@Inject(PLATFORM_SETTINGS) settings: PlatformSettings) {
    this.trust = compileTrust(settings.trustProxy);
  }

  /** The address chain, client first and our direct peer last: the `X-Forwarded-For` we send on. */
  chain(request: IncomingMessage): string[] {
    return proxyaddr.all(request, this.trust).reverse();
  }

  /** The client's address: the furthest one the trusted proxies vouch for. */
  client(request: IncomingMessage): string {
    return proxyaddr(request, this.trust);
  }

  /** `http`, or the first `X-Forwarded-Proto` when our peer is trusted. */
  protocol(request: IncomingMessage): string {
    const forwarded = request.headers['x-forwarded-proto'];
    const peer = request.socket.remoteAddress ?? '';
    if (typeof forwarded === 'string' && this.trust(peer, 0)) {
      return forwarded.split(',')[0]?.trim() || 'http';
    }
    return 'http';
  }
}
