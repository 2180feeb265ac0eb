export * from './lib/openai-relay.settings';
export * from './lib/billing.service';
export * from './lib/billing.route';
export * from './lib/openai-relay.route';
export * from './lib/openai-relay.module';
