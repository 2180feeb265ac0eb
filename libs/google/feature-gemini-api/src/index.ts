export * from './lib/gemini-api.settings';
export * from './lib/gemini-relay.route';
export * from './lib/gemini-api.module';
