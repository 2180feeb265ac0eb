import { HttpModule } from '@nestjs/axios';
import { Global, Module } from '@nestjs/common';
import { ControlPlaneClient } from './control-plane.client';
import { ProviderCallService } from './provider-call.service';
import { ProviderPipeline } from './provider-pipeline.service';
import { RelayService } from './relay.service';
import { WebSocketRelay } from './websocket-relay';

/**
 * The upstream HTTP layer: the undici relay for the data plane, and `@nestjs/axios` for control-plane calls
 * (billing, conversation management, page scrapes), which take their agents from `ControlPlaneHttp`.
 */
@Global()
@Module({
  imports: [HttpModule],
  providers: [RelayService, WebSocketRelay, ProviderCallService, ProviderPipeline, ControlPlaneClient],
  exports: [RelayService, WebSocketRelay, ProviderCallService, ProviderPipeline, ControlPlaneClient, HttpModule],
})
export class UpstreamModule {}
