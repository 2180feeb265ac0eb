import { Agent, type Dispatcher, ProxyAgent } from 'undici';
import type { UpstreamSettings } from '@openai-proxy/util-config';
import { bypassesProxy } from './no-proxy';

/** Below common upstream keep-alive timeouts, so we close an idle socket before the upstream does. */
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

/**
 * The undici pools of one service: keep-alive, separate connect / headers / idle budgets, no total deadline
 * (a stream may last as long as it keeps sending), no retries in the HTTP client (one retry layer only).
 */
export class UpstreamDispatchers {
  /** Direct connections: our own services, and providers listed in NO_PROXY. */
  readonly direct: Dispatcher;
  private readonly proxied: Dispatcher | undefined;

  constructor(private readonly settings: UpstreamSettings) {
    const options = {
      connect: { timeout: settings.connectTimeoutMs },
      headersTimeout: settings.headersTimeoutMs,
      bodyTimeout: settings.idleTimeoutMs,
      keepAliveTimeout: CLIENT_KEEP_ALIVE_TIMEOUT_MS,
      keepAliveMaxTimeout: 60_000,
    };
    this.direct = new Agent(options);
    this.proxied =
      settings.httpsProxy === undefined ? undefined : new ProxyAgent({ uri: settings.httpsProxy, ...options });
  }

  /** The dispatcher for a provider: through HTTPS_PROXY unless NO_PROXY lists its host. */
  forProvider(target: URL): Dispatcher {
    if (this.proxied === undefined || bypassesProxy(target, this.settings.noProxy)) {
      return this.direct;
    }
    return this.proxied;
  }

  /** Closes every pool at once; in-flight requests (the drain is over by then) are aborted. */
  async destroy(): Promise<void> {
    await Promise.all([this.direct.destroy(), this.proxied?.destroy()]);
  }
}
