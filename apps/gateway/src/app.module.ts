import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type PlatformModuleOptions } from '@openai-proxy/feature-platform';
import { UpstreamModule } from '@openai-proxy/data-access-upstream';
import { GatewayEdgeModule } from '@openai-proxy/gateway-feature-edge';
import type { GatewayConfig } from './config/gateway.env';

@Module({})
export class GatewayAppModule {
  static register(config: GatewayConfig, options: PlatformModuleOptions = {}): DynamicModule {
    return {
      module: GatewayAppModule,
      imports: [
        PlatformModule.forRoot(config.platform, options),
        UpstreamModule,
        GatewayEdgeModule.register(config.gateway, config.team),
      ],
    };
  }
}
