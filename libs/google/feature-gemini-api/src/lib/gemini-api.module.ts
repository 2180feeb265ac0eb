import { DynamicModule, Module } from '@nestjs/common';
import { providerRoutes } from '@openai-proxy/data-access-upstream';
import { GEMINI_API_ROUTES, geminiAdapter } from '@openai-proxy/provider-gemini';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';
import { GeminiRelayRoute } from './gemini-relay.route';

/** Gemini through its official API: OpenAI-compatible routes and the `/gemini/**` relay. */
@Module({})
export class GeminiApiModule {
  static register(settings: GeminiApiSettings): DynamicModule {
    return {
      module: GeminiApiModule,
      providers: [
        { provide: GEMINI_API_SETTINGS, useValue: settings },
        providerRoutes({ settings: GEMINI_API_SETTINGS, adapter: geminiAdapter, routes: GEMINI_API_ROUTES }),
        GeminiRelayRoute,
      ],
    };
  }
}
