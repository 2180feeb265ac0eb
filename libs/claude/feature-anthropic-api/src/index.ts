export * from './lib/anthropic-api.settings';
export * from './lib/anthropic-relay.route';
export * from './lib/anthropic-api.module';
