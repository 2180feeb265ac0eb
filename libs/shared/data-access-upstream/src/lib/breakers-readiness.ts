import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ReadinessService } from '@openai-proxy/feature-platform';
import { RelayService } from './relay.service';

/** Shows each upstream's circuit breaker under `breakers.upstreams` of /readyz (by upstream name). */
@Injectable()
export class BreakersReadiness implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly relay: RelayService,
  ) {}

  onModuleInit(): void {
    this.readiness.registerBreakers('upstreams', () => this.relay.guards.views());
  }
}
