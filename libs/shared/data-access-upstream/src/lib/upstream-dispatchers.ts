import { Agent, type Dispatcher } from 'undici';
import type { UpstreamSettings } from '@openai-proxy/util-config';
import { EgressAgent, type EgressProxy, egressConnector, parseEgressProxy } from './egress-proxy';
import { bypassesProxy } from './no-proxy';

/** Below common upstream keep-alive timeouts, so we close an idle socket before the upstream does. */
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 4_000;
/** How long requests in flight when the app closes may take to finish before they are aborted. */
const CLOSE_GRACE_MS = 1_000;

/** The WebSocket agents through the egress proxy, for ws:// and wss:// upstreams. */
interface WebSocketAgents {
  plain: EgressAgent;
  secure: EgressAgent;
}

/**
 * The undici pools of one service: keep-alive, separate connect / headers / idle budgets, no total deadline
 * (a stream may last as long as it keeps sending), no retries in the HTTP client (one retry layer only).
 * With an egress proxy (HTTPS_PROXY, else ALL_PROXY), providers are reached through a second pool of the
 * same options whose connections are tunnels (egress-proxy.ts), and WebSocket upstreams through its agents.
 */
export class UpstreamDispatchers {
  /** Direct connections: our own services, and providers listed in NO_PROXY. */
  readonly direct: Dispatcher;
  private readonly proxied: Dispatcher | undefined;
  private readonly webSocketAgents: WebSocketAgents | undefined;
  private closed: Promise<void> | undefined;

  /** `settings`: the budgets, pools and egress proxy they were made with (control-plane calls read their budget). */
  constructor(readonly settings: UpstreamSettings) {
    const options = {
      headersTimeout: settings.headersTimeoutMs,
      bodyTimeout: settings.idleTimeoutMs,
      keepAliveTimeout: CLIENT_KEEP_ALIVE_TIMEOUT_MS,
      keepAliveMaxTimeout: 60_000,
    };
    this.direct = new Agent({ connect: { timeout: settings.connectTimeoutMs }, ...options });
    const proxy: EgressProxy | undefined =
      settings.egressProxy === undefined ? undefined : parseEgressProxy(settings.egressProxy);
    if (proxy !== undefined) {
      this.proxied = new Agent({ connect: egressConnector(proxy, settings.connectTimeoutMs), ...options });
      this.webSocketAgents = {
        plain: new EgressAgent(proxy, false, settings.connectTimeoutMs),
        secure: new EgressAgent(proxy, true, settings.connectTimeoutMs),
      };
    }
  }

  /** The dispatcher for a provider: through the egress proxy unless NO_PROXY lists its host. */
  forProvider(target: URL): Dispatcher {
    return this.proxied === undefined || this.bypasses(target) ? this.direct : this.proxied;
  }

  /** The node:http agent for a provider's WebSocket (`ws:`/`http:` or `wss:`/`https:` URL); none: connect directly. */
  webSocketAgentFor(target: URL): EgressAgent | undefined {
    if (this.webSocketAgents === undefined || this.bypasses(target)) {
      return undefined;
    }
    const secure = target.protocol === 'https:' || target.protocol === 'wss:';
    return secure ? this.webSocketAgents.secure : this.webSocketAgents.plain;
  }

  /**
   * Closes every pool when the app closes (the drain is over by then): requests already sent get a short grace
   * to finish (the best-effort calls made at the drain cap, such as deleting a claude.ai conversation whose
   * creation it cut), then whatever is left is aborted. Closing again waits for the same end.
   */
  destroy(): Promise<void> {
    this.closed ??= this.close();
    return this.closed;
  }

  private async close(): Promise<void> {
    this.webSocketAgents?.plain.destroy();
    this.webSocketAgents?.secure.destroy();
    const pools = this.proxied === undefined ? [this.direct] : [this.direct, this.proxied];
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([Promise.all(pools.map((pool) => pool.close())), grace]);
    clearTimeout(timer);
    await Promise.all(pools.map((pool) => pool.destroy()));
  }

  private bypasses(target: URL): boolean {
    return bypassesProxy(target, this.settings.noProxy);
  }
}
