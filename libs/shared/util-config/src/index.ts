export * from './lib/env-schema';
export * from './lib/settings.types';
