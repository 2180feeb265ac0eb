export * from './lib/error-envelope.types';
export * from './lib/model-list.types';
export * from './lib/chat-completion.types';
export * from './lib/chat-completion.schema';
export * from './lib/chunks-to-completion';
export * from './lib/data-url';
export * from './lib/provider-usage.types';
