import { Global, Module } from '@nestjs/common';
import { ControlPlaneClient } from './control-plane.client';
import { ProviderCallService } from './provider-call.service';
import { ProviderPipeline } from './provider-pipeline.service';
import { RelayService } from './relay.service';
import { WebSocketRelay } from './websocket-relay';

/**
 * The upstream HTTP layer, one undici client family for all of it: the relay and the provider pipeline for
 * the data plane, ControlPlaneClient for control-plane calls (billing, conversation management, page
 * scrapes), and the WebSocket relay; all take their pools and egress proxy from RelayService.dispatchers.
 */
@Global()
@Module({
  providers: [RelayService, WebSocketRelay, ProviderCallService, ProviderPipeline, ControlPlaneClient],
  exports: [RelayService, WebSocketRelay, ProviderCallService, ProviderPipeline, ControlPlaneClient],
})
export class UpstreamModule {}
