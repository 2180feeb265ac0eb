import { DynamicModule, Module } from '@nestjs/common';
import { providerRoutes } from '@openai-proxy/data-access-upstream';
import { ANTHROPIC_API_ROUTES, anthropicAdapter } from '@openai-proxy/provider-anthropic';
import { ANTHROPIC_API_SETTINGS, type AnthropicApiSettings } from './anthropic-api.settings';
import { AnthropicRelayRoute } from './anthropic-relay.route';

/** Claude through the official Anthropic API: OpenAI-compatible routes and the `/anthropic/**` relay. */
@Module({})
export class AnthropicApiModule {
  static register(settings: AnthropicApiSettings): DynamicModule {
    return {
      module: AnthropicApiModule,
      providers: [
        { provide: ANTHROPIC_API_SETTINGS, useValue: settings },
        providerRoutes({ settings: ANTHROPIC_API_SETTINGS, adapter: anthropicAdapter, routes: ANTHROPIC_API_ROUTES }),
        AnthropicRelayRoute,
      ],
    };
  }
}
