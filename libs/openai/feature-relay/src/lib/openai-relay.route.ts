import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry, underPrefix } from '@openai-proxy/feature-platform';
import { RelayService, WebSocketRelay } from '@openai-proxy/data-access-upstream';
import { BILLING_PATH } from './billing.controller';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';
import { openAiStreamTerminal } from './openai-stream-terminal';

const PREFIX = '/openai';

/** `ANY /openai/**` → `OPENAI_API_BASE/**`, query kept, bytes untouched; a raw route ahead of Express. */
@Injectable()
export class OpenAiRelayRoute implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly relayService: RelayService,
    private readonly webSocketRelay: WebSocketRelay,
    @Inject(OPENAI_RELAY_SETTINGS) private readonly settings: OpenAiRelaySettings,
  ) {}

  onModuleInit(): void {
    const target = this.relayService.target({
      name: 'openai',
      baseUrl: this.settings.apiBase,
      kind: 'provider',
      streamTerminal: openAiStreamTerminal,
    });
    // Served by BillingController (a Nest route), not relayed.
    this.registry.reserveForApplication(BILLING_PATH);
    this.registry.register({
      label: '/openai/*path',
      matches: (pathname) => underPrefix(pathname, PREFIX),
      handle: (request, response) =>
        this.relayService.relay(request, response, target, (request.url ?? PREFIX).slice(PREFIX.length)),
      // The Realtime API (`/openai/v1/realtime`) and any other upgrade on the prefix: relayed as a WebSocket.
      upgrade: (request, socket, head) =>
        this.webSocketRelay.relay(request, socket, head, target, (request.url ?? PREFIX).slice(PREFIX.length)),
    });
  }
}
