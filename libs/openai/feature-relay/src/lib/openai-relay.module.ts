import { DynamicModule, Module } from '@nestjs/common';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';
import { OpenAiRelayRoute } from './openai-relay.route';
import { OPENAI_RELAY_SETTINGS, type OpenAiRelaySettings } from './openai-relay.settings';

/** The OpenAI relay (a raw route) and the cost query (a Nest route, which the relay route leaves alone). */
@Module({})
export class OpenAiRelayModule {
  static register(settings: OpenAiRelaySettings): DynamicModule {
    return {
      module: OpenAiRelayModule,
      controllers: [BillingController],
      providers: [{ provide: OPENAI_RELAY_SETTINGS, useValue: settings }, BillingService, OpenAiRelayRoute],
    };
  }
}
