export * from './lib/fake-upstream';
export * from './lib/fake-responses';
export * from './lib/fake-openai';
export * from './lib/service-checks';
export * from './lib/fake-connect-proxy';
export * from './lib/fake-anthropic';
export * from './lib/fake-claude-web';
