import { HttpModule } from '@nestjs/axios';
import { Global, Module } from '@nestjs/common';
import { RelayService } from './relay.service';

/**
 * The upstream HTTP layer: the undici relay for the data plane, and `@nestjs/axios` for control-plane calls
 * (billing, conversation management, page scrapes), which take their agents from `ControlPlaneHttp`.
 */
@Global()
@Module({
  imports: [HttpModule],
  providers: [RelayService],
  exports: [RelayService, HttpModule],
})
export class UpstreamModule {}
