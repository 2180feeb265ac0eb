export * from './lib/error-envelope.types';
export * from './lib/model-list.types';
