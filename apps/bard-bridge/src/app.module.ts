import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type PlatformModuleOptions } from '@openai-proxy/feature-platform';
import { UpstreamModule } from '@openai-proxy/data-access-upstream';
import { GeminiApiModule } from '@openai-proxy/google-feature-gemini-api';
import { BardModule } from '@openai-proxy/google-feature-bard';
import type { BardBridgeConfig } from './config/bard-bridge.env';

@Module({})
export class BardBridgeAppModule {
  static register(config: BardBridgeConfig, options: PlatformModuleOptions = {}): DynamicModule {
    return {
      module: BardBridgeAppModule,
      imports: [
        PlatformModule.forRoot(config.platform, options),
        UpstreamModule,
        GeminiApiModule.register(config.geminiApi),
        BardModule.register(config.bard),
      ],
    };
  }
}
