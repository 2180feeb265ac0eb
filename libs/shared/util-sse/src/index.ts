export * from './lib/sse-decoder';
export * from './lib/sse-encoder';
