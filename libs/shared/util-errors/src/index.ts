export * from './lib/error-code';
export * from './lib/gateway.exception';
export * from './lib/upstream-error.classify';
export * from './lib/chat-request.validation';
export * from './lib/json-text';
