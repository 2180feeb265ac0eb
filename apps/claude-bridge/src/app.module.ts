import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type PlatformModuleOptions } from '@openai-proxy/feature-platform';
import { UpstreamModule } from '@openai-proxy/data-access-upstream';
import { AnthropicApiModule } from '@openai-proxy/claude-feature-anthropic-api';
import { ClaudeWebModule } from '@openai-proxy/claude-feature-claude-web';
import type { ClaudeBridgeConfig } from './config/claude-bridge.env';

@Module({})
export class ClaudeBridgeAppModule {
  static register(config: ClaudeBridgeConfig, options: PlatformModuleOptions = {}): DynamicModule {
    return {
      module: ClaudeBridgeAppModule,
      imports: [
        PlatformModule.forRoot(config.platform, options),
        UpstreamModule,
        AnthropicApiModule.register(config.anthropicApi),
        ClaudeWebModule.register(config.claude),
      ],
    };
  }
}
