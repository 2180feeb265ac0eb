export * from './lib/gateway.settings';
export * from './lib/service-routes';
export * from './lib/cors.middleware';
export * from './lib/rate-limit.middleware';
export * from './lib/gateway.routes';
export * from './lib/service-readiness';
export * from './lib/gateway-edge.module';
