import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry, underPrefix } from '@openai-proxy/feature-platform';
import { RelayService, WebSocketRelay } from '@openai-proxy/data-access-upstream';
import { moveBearerApiKey } from '@openai-proxy/provider-gemini';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';

const PREFIX = '/gemini';

/**
 * `ANY /gemini/**` → `GEMINI_API_BASE/**`, transparent like `/openai/**`: `?alt=sse` streams and the
 * OpenAI-compatible `v1beta/openai/` paths included; a key in `x-goog-api-key` or `?key=` passes through
 * (and is redacted from every log line), a key sent as `Authorization: Bearer` goes on as `x-goog-api-key`, and
 * an OAuth access token stays `Authorization: Bearer`.
 */
@Injectable()
export class GeminiRelayRoute implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly relayService: RelayService,
    private readonly webSocketRelay: WebSocketRelay,
    @Inject(GEMINI_API_SETTINGS) private readonly settings: GeminiApiSettings,
  ) {}

  onModuleInit(): void {
    const target = this.relayService.target({ name: 'gemini', baseUrl: this.settings.apiBase, kind: 'provider' });
    this.registry.register({
      label: '/gemini/*path',
      matches: (pathname) => underPrefix(pathname, PREFIX),
      handle: (request, response) => {
        moveBearerApiKey(request);
        return this.relayService.relay(request, response, target, (request.url ?? PREFIX).slice(PREFIX.length));
      },
      // Any upgrade on the prefix (such as the Live API) is relayed as a WebSocket, its key moved as for HTTP.
      upgrade: (request, socket, head) => {
        moveBearerApiKey(request);
        return this.webSocketRelay.relay(request, socket, head, target, (request.url ?? PREFIX).slice(PREFIX.length));
      },
    });
  }
}
