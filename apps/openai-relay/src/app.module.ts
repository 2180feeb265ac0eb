import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type PlatformModuleOptions } from '@openai-proxy/feature-platform';
import { UpstreamModule } from '@openai-proxy/data-access-upstream';
import { OpenAiRelayModule } from '@openai-proxy/openai-feature-relay';
import type { OpenAiRelayConfig } from './config/openai-relay.env';

@Module({})
export class OpenAiRelayAppModule {
  static register(config: OpenAiRelayConfig, options: PlatformModuleOptions = {}): DynamicModule {
    return {
      module: OpenAiRelayAppModule,
      imports: [
        PlatformModule.forRoot(config.platform, options),
        UpstreamModule,
        OpenAiRelayModule.register(config.relay),
      ],
    };
  }
}
