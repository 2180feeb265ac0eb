import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ReadinessService } from '@openai-proxy/feature-platform';
import { RelayService } from '@openai-proxy/data-access-upstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { serviceRoutes } from './service-routes';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * The gateway's readiness reflects its services: each one's `/readyz` is asked and reported. The gateway is
 * ready while at least one service is, so one provider being down does not take the others off the air.
 */
@Injectable()
export class ServiceReadiness implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly relayService: RelayService,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  onModuleInit(): void {
    this.readiness.setPolicy('any');
    for (const route of serviceRoutes(this.settings)) {
      const url = new URL('/readyz', route.url);
      this.readiness.register(route.name, async () => {
        try {
          const answer = await this.relayService.dispatchers.direct.request({
            origin: url.origin,
            path: url.pathname,
            method: 'GET',
            signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
          });
          await answer.body.dump();
          return { ok: answer.statusCode === 200, detail: `readyz answered ${answer.statusCode}` };
        } catch {
          return { ok: false, detail: 'unreachable' };
        }
      });
    }
  }
}
