import { HttpModule } from '@nestjs/axios';
import { Global, Module } from '@nestjs/common';
import { ControlPlaneClient } from './control-plane.client';
import { ProviderCallService } from './provider-call.service';
import { RelayService } from './relay.service';
import { WebSocketRelay } from './websocket-relay';

/**
 * The upstream HTTP layer: the undici relay for the data plane, and `@nestjs/axios` for control-plane calls
 * (billing, conversation management, page scrapes), which take their agents from `ControlPlaneHttp`.
 */
@Global()
@Module({
  imports: [HttpModule],
  providers: [RelayService, WebSocketRelay, ProviderCallService, ControlPlaneClient],
  exports: [RelayService, WebSocketRelay, ProviderCallService, ControlPlaneClient, HttpModule],
})
export class UpstreamModule {}
