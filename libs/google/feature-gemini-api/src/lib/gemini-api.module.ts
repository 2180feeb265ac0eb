import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { JsonBodyMiddleware } from '@openai-proxy/feature-platform';
import { GeminiApiController } from './gemini-api.controller';
import { GEMINI_API_SETTINGS, type GeminiApiSettings } from './gemini-api.settings';
import { GeminiRelayRoute } from './gemini-relay.route';

/** Gemini through its official API: OpenAI-compatible routes and the `/gemini/**` relay. */
@Module({})
export class GeminiApiModule implements NestModule {
  static register(settings: GeminiApiSettings): DynamicModule {
    return {
      module: GeminiApiModule,
      controllers: [GeminiApiController],
      providers: [{ provide: GEMINI_API_SETTINGS, useValue: settings }, GeminiRelayRoute],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes(GeminiApiController);
  }
}
