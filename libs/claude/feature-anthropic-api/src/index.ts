export * from './lib/anthropic-api.settings';
export * from './lib/anthropic-credentials';
export * from './lib/anthropic.adapter';
export * from './lib/anthropic-api.controller';
export * from './lib/anthropic-relay.route';
export * from './lib/anthropic-api.module';
