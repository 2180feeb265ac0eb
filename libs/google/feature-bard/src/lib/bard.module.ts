import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { JsonBodyMiddleware } from '@openai-proxy/feature-platform';
import { BardController } from './bard.controller';
import { BardService } from './bard.service';
import { BARD_SETTINGS, type BardSettings } from './bard.settings';

/** Bard through browser cookies (the original's `/google/bard`). */
@Module({})
export class BardModule implements NestModule {
  static register(settings: BardSettings): DynamicModule {
    return {
      module: BardModule,
      controllers: [BardController],
      providers: [{ provide: BARD_SETTINGS, useValue: settings }, BardService],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes(BardController);
  }
}
