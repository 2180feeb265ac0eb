import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { TeamModule, type TeamSettings } from '@openai-proxy/gateway-feature-team';
import { CorsMiddleware, CorsPolicy } from './cors.middleware';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { GatewayRoutes, RootController } from './gateway.routes';
import { RateLimitMiddleware, RateLimitPolicy } from './rate-limit.middleware';
import { ServiceReadiness } from './service-readiness';

/**
 * The public edge: CORS, rate limit, `/` → `/docs`, and routing by path prefix to each service. The provider
 * prefixes are raw routes (GatewayRoutes); the middleware gives the same CORS and limit to the Nest routes.
 */
@Module({})
export class GatewayEdgeModule implements NestModule {
  static register(settings: GatewaySettings, team: TeamSettings): DynamicModule {
    return {
      module: GatewayEdgeModule,
      imports: [TeamModule.register(team)],
      controllers: [RootController],
      providers: [
        { provide: GATEWAY_SETTINGS, useValue: settings },
        CorsPolicy,
        RateLimitPolicy,
        GatewayRoutes,
        ServiceReadiness,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorsMiddleware, RateLimitMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
