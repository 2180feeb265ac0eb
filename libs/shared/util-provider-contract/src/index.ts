export * from './lib/provider-adapter.types';
export * from './lib/provider-answers';
