export * from './lib/platform.tokens';
export * from './lib/platform.module';
export * from './lib/metrics.service';
export * from './lib/shutdown.service';
export * from './lib/readiness.service';
export * from './lib/openai-exception.filter';
export * from './lib/request-context.middleware';
export * from './lib/service-app.bootstrap';
