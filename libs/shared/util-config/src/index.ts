export * from './lib/env-schema';
export * from './lib/settings.types';
export * from './lib/openai-compatible-providers';
export * from './lib/gateway-config.types';
export * from './lib/gateway-config.schema';
export * from './lib/gateway-config.reader';
export * from './lib/configured-providers';
