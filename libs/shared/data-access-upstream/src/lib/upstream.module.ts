import { Global, Module } from '@nestjs/common';
import { BreakersReadiness } from './breakers-readiness';
import { ControlPlaneClient } from './control-plane.client';
import { ProviderCallService } from './provider-call.service';
import { ProviderPipeline } from './provider-pipeline.service';
import { RelayService } from './relay.service';
import { WebSocketRelay } from './websocket-relay';

/**
 * The upstream HTTP layer, one undici client family for all of it: the relay and the provider pipeline for
 * the data plane, ControlPlaneClient for control-plane calls (billing, conversation management, page
 * scrapes), and the WebSocket relay; all take their pools and egress proxy from RelayService.dispatchers, and
 * the data plane's calls their breakers and retry budgets from RelayService.guards (shown in /readyz).
 */
@Global()
@Module({
  providers: [
    RelayService,
    WebSocketRelay,
    ProviderCallService,
    ProviderPipeline,
    ControlPlaneClient,
    BreakersReadiness,
  ],
  exports: [RelayService, WebSocketRelay, ProviderCallService, ProviderPipeline, ControlPlaneClient],
})
export class UpstreamModule {}
