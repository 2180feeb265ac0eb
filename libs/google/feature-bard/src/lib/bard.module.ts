import { DynamicModule, Module } from '@nestjs/common';
import { BardRoutes } from './bard.routes';
import { BardService } from './bard.service';
import { BARD_SETTINGS, type BardSettings } from './bard.settings';

/** Bard through browser cookies (the original's `/google/bard`), a raw route on the provider pipeline. */
@Module({})
export class BardModule {
  static register(settings: BardSettings): DynamicModule {
    return {
      module: BardModule,
      providers: [{ provide: BARD_SETTINGS, useValue: settings }, BardService, BardRoutes],
    };
  }
}
