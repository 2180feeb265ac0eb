export * from './lib/claude-web.types';
export * from './lib/claude-web.schema';
export * from './lib/prompt.transform';
export * from './lib/stream.transform';
export * from './lib/stream-end.watch';
