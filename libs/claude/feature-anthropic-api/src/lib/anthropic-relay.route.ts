import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RawRouteRegistry, underPrefix } from '@openai-proxy/feature-platform';
import { RelayService } from '@openai-proxy/data-access-upstream';
import { readBearerToken } from '@openai-proxy/util-auth-headers';
import { ANTHROPIC_API_SETTINGS, type AnthropicApiSettings } from './anthropic-api.settings';

const PREFIX = '/anthropic';

/**
 * `ANY /anthropic/**` → `ANTHROPIC_API_BASE/**`, transparent like `/openai/**`. A key sent as
 * `Authorization: Bearer` (the current @anthropic-ai/sdk) is sent on as `x-api-key`, which the API expects.
 */
@Injectable()
export class AnthropicRelayRoute implements OnModuleInit {
  constructor(
    private readonly registry: RawRouteRegistry,
    private readonly relayService: RelayService,
    @Inject(ANTHROPIC_API_SETTINGS) private readonly settings: AnthropicApiSettings,
  ) {}

  onModuleInit(): void {
    const target = this.relayService.target({ name: 'anthropic', baseUrl: this.settings.apiBase, kind: 'provider' });
    this.registry.register({
      label: '/anthropic/*path',
      matches: (pathname) => underPrefix(pathname, PREFIX),
      handle: (request, response) => {
        const bearer = readBearerToken(request.headers);
        if (request.headers['x-api-key'] === undefined && bearer !== undefined) {
          request.headers['x-api-key'] = bearer;
          delete request.headers.authorization;
        }
        return this.relayService.relay(request, response, target, (request.url ?? PREFIX).slice(PREFIX.length));
      },
    });
  }
}
