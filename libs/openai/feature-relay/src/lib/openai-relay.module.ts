import { DynamicModule, Module } from '@nestjs/common';
import { BillingService } from './billing.service';
import { OpenAiRelayRoute } from './openai-relay.route';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';

/** The OpenAI relay and the cost query, both raw routes (the cost query registered ahead of the relay). */
@Module({})
export class OpenAiRelayModule {
  static register(settings: OpenAiRelaySettings): DynamicModule {
    return {
      module: OpenAiRelayModule,
      providers: [{ provide: OPENAI_RELAY_SETTINGS, useValue: settings }, BillingService, OpenAiRelayRoute],
    };
  }
}
