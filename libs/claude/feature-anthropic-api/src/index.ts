export * from './lib/anthropic-api.settings';
export * from './lib/anthropic-credentials';
export * from './lib/anthropic.adapter';
export * from './lib/anthropic-api.routes';
export * from './lib/anthropic-relay.route';
export * from './lib/anthropic-api.module';
