import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry, underPrefix } from '@openai-proxy/feature-platform';
import { RelayService, WebSocketRelay } from '@openai-proxy/data-access-upstream';
import { ANTHROPIC_API_SETTINGS, type AnthropicApiSettings } from './anthropic-api.settings';
import { anthropicStreamTerminal } from './anthropic-stream-terminal';

const PREFIX = '/anthropic';

/**
 * `ANY /anthropic/**` → `ANTHROPIC_API_BASE/**`, transparent like `/openai/**`: `Authorization`, `x-api-key`,
 * `anthropic-version` and `anthropic-beta` go on as the client sent them. The API takes a key either way, and an
 * OAuth token (Claude Code's `sk-ant-oat…`, with an `oauth-…` beta) only as `Authorization: Bearer`.
 */
@Injectable()
export class AnthropicRelayRoute implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly relayService: RelayService,
    private readonly webSocketRelay: WebSocketRelay,
    @Inject(ANTHROPIC_API_SETTINGS) private readonly settings: AnthropicApiSettings,
  ) {}

  onModuleInit(): void {
    const target = this.relayService.target({
      name: 'anthropic',
      baseUrl: this.settings.apiBase,
      kind: 'provider',
      streamTerminal: anthropicStreamTerminal,
    });
    this.registry.register({
      label: '/anthropic/*path',
      matches: (pathname) => underPrefix(pathname, PREFIX),
      handle: (request, response) =>
        this.relayService.relay(request, response, target, (request.url ?? PREFIX).slice(PREFIX.length)),
      // Any upgrade on the prefix is relayed as a WebSocket, its headers as for HTTP.
      upgrade: (request, socket, head) =>
        this.webSocketRelay.relay(request, socket, head, target, (request.url ?? PREFIX).slice(PREFIX.length)),
    });
  }
}
