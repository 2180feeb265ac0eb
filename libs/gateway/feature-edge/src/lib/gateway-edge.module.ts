import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { CorsMiddleware } from './cors.middleware';
import { GatewayRoutingController } from './gateway-routing.controller';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway.settings';
import { RateLimitMiddleware } from './rate-limit.middleware';
import { ServiceReadiness } from './service-readiness';

/** The public edge: CORS, rate limit, `/` → `/docs`, and routing by path prefix to each service. */
@Module({})
export class GatewayEdgeModule implements NestModule {
  static register(settings: GatewaySettings): DynamicModule {
    return {
      module: GatewayEdgeModule,
      controllers: [GatewayRoutingController],
      providers: [{ provide: GATEWAY_SETTINGS, useValue: settings }, ServiceReadiness],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorsMiddleware, RateLimitMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
