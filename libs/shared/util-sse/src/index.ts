export * from './lib/sse-decoder';
export * from './lib/sse-encoder';
export * from './lib/stream-item.types';
export * from './lib/provider-event';
export * from './lib/prompt-usage-event';
