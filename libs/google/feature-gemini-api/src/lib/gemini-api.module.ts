import { DynamicModule, Module } from '@nestjs/common';
import { GeminiApiRoutes } from './gemini-api.routes';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';
import { GeminiRelayRoute } from './gemini-relay.route';

/** Gemini through its official API: OpenAI-compatible routes and the `/gemini/**` relay. */
@Module({})
export class GeminiApiModule {
  static register(settings: GeminiApiSettings): DynamicModule {
    return {
      module: GeminiApiModule,
      providers: [{ provide: GEMINI_API_SETTINGS, useValue: settings }, GeminiApiRoutes, GeminiRelayRoute],
    };
  }
}
