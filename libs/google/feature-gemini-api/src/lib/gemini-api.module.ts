import { DynamicModule, Module } from '@nestjs/common';
import { GeminiApiController } from './gemini-api.controller';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';
import { GeminiRelayRoute } from './gemini-relay.route';

/** Gemini through its official API: OpenAI-compatible routes and the `/gemini/**` relay. */
@Module({})
export class GeminiApiModule {
  static register(settings: GeminiApiSettings): DynamicModule {
    return {
      module: GeminiApiModule,
      controllers: [GeminiApiController],
      providers: [{ provide: GEMINI_API_SETTINGS, useValue: settings }, GeminiRelayRoute],
    };
  }
}
