import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { RawRouteRegistry, ReadinessService, underPrefix } from '@openai-proxy/feature-platform';
import { RelayService, WebSocketRelay, registerJsonRoutes } from '@openai-proxy/data-access-upstream';
import { billingRoute } from './billing.route';
import { BILLING_UPSTREAM, BillingService } from './billing.service';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';
import { openAiStreamTerminal } from './openai-stream-terminal';
import { type ProviderRequestRewrite, providerRequestRewrite } from './provider-request.rewrite';

/**
 * `ANY /openai/**` → `OPENAI_API_BASE/**`, and `ANY /<name>/**` → each OpenAI-compatible provider's base URL,
 * query kept, bytes untouched; raw routes ahead of Express. `GET /openai/billing/credit_grants` is not relayed.
 */
@Injectable()
export class OpenAiRelayRoute implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly relayService: RelayService,
    private readonly webSocketRelay: WebSocketRelay,
    private readonly readiness: ReadinessService,
    private readonly billing: BillingService,
    @Inject(OPENAI_RELAY_SETTINGS) private readonly settings: OpenAiRelaySettings,
  ) {}

  onModuleInit(): void {
    // First: the billing path is under the relay's prefix, and the first raw route that matches a path serves it.
    registerJsonRoutes(this.registry, [billingRoute(this.billing)]);
    this.registerProvider('openai', this.settings.apiBase);
    // Shown in /readyz from the start, like every upstream's breaker, not only after the first cost query.
    this.relayService.guards.for(BILLING_UPSTREAM);
    for (const provider of this.settings.compatibleProviders) {
      this.registerProvider(provider.name, provider.baseUrl, providerRequestRewrite(provider));
      // Shown, not probed: a provider's health is its own, and asking it would cost a request per probe.
      this.readiness.register(provider.name, () => Promise.resolve({ ok: true, detail: 'configured, not probed' }));
    }
  }

  /**
   * `ANY /<name>/**` relayed to `baseUrl`, the same target machinery for every OpenAI-format provider; `rewrite`
   * (a key header, a configured query) runs on each HTTP request and WebSocket upgrade of that provider only.
   */
  private registerProvider(name: string, baseUrl: string, rewrite?: ProviderRequestRewrite): void {
    const prefix = `/${name}`;
    const target = this.relayService.target({ name, baseUrl, kind: 'provider', streamTerminal: openAiStreamTerminal });
    const restOf = (request: IncomingMessage): string => (request.url ?? prefix).slice(prefix.length);
    const pathOf = rewrite === undefined ? restOf : (request: IncomingMessage) => rewrite(request, restOf(request));
    this.registry.register({
      label: `${prefix}/*path`,
      matches: (pathname) => underPrefix(pathname, prefix),
      handle: (request, response) => this.relayService.relay(request, response, target, pathOf(request)),
      // The Realtime API (`/openai/v1/realtime`) and any other upgrade on the prefix: relayed as a WebSocket.
      upgrade: (request, socket, head) => this.webSocketRelay.relay(request, socket, head, target, pathOf(request)),
    });
  }
}
