export * from './lib/env-schema';
export * from './lib/settings.types';
export * from './lib/openai-compatible-providers';
