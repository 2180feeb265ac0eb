import { DynamicModule, Module } from '@nestjs/common';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';
import { OpenAiRelayController } from './openai-relay.controller';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';

/** The OpenAI relay and the cost query. The billing controller comes first so it shadows the relay path. */
@Module({})
export class OpenAiRelayModule {
  static register(settings: OpenAiRelaySettings): DynamicModule {
    return {
      module: OpenAiRelayModule,
      controllers: [BillingController, OpenAiRelayController],
      providers: [{ provide: OPENAI_RELAY_SETTINGS, useValue: settings }, BillingService],
    };
  }
}
